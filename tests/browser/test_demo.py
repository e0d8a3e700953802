"""The demo journey and the consent pages in real headless Chromium: allow with several
documents, deny, a wrong OTP then the right one, a finished link reopened, and the consent page
completed with the keyboard alone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.live_server import LiveGateway

REQUEST_PAGE = re.compile(r"/demo/requests/([0-9a-f-]{36})$")


def start(page: Page, doc_types: list[str]) -> None:
    page.goto("/demo")
    expect(page.get_by_role("heading", name="Verify your identity")).to_be_visible()
    for box in page.locator('input[name="doctype"]').all():
        value = box.get_attribute("value")
        box.set_checked(value in doc_types)
    page.get_by_role("button", name="Verify with DigiLocker").click()


def step(page: Page) -> str:
    form = page.locator("form[data-step]")
    expect(form).to_have_count(1)
    return form.get_attribute("data-step") or ""


def sign_in(page: Page, user: dict[str, Any], *, wrong_otp: bool = False) -> None:
    """The simulator's pages, up to consent (docs/simulator.md's automation contract)."""
    for _ in range(6):
        current = step(page)
        if current == "consent":
            return
        if current == "identify":
            page.locator('input[name="identifier"]').fill(user["identifier"])
        elif current == "otp":
            if wrong_otp:
                wrong_otp = False
                page.locator('input[name="otp"]').fill(
                    "000000" if user["otp"] != "000000" else "999999"
                )
                page.locator("form[data-step] button").first.click()
                expect(page.get_by_role("alert")).to_be_visible()
                assert step(page) == "otp"
            page.locator('input[name="otp"]').fill(user["otp"])
        elif current == "pin":
            page.locator('input[name="pin"]').fill(user["pin"])
        else:
            raise AssertionError(f"unexpected step {current}")
        page.locator("form[data-step] button").first.click()
    raise AssertionError("never reached the consent page")


def request_id_of(page: Page) -> str:
    expect(page).to_have_url(REQUEST_PAGE)
    found = REQUEST_PAGE.search(page.url)
    assert found is not None
    return found.group(1)


def test_allow_with_several_documents_then_aadhaar_document_and_revoke(
    page: Page, users: dict[str, dict[str, Any]]
) -> None:
    user = users["complete"]
    start(page, ["ADHAR", "PANCR"])
    sign_in(page, user)
    consent = page.locator('input[name="doctype"]')
    expect(consent).to_have_count(2)
    page.locator('button[name="decision"][value="allow"]').click()

    request_id_of(page)
    expect(page.locator("#status")).to_have_text("authenticated")
    expect(page.locator("#consented")).to_contain_text("ADHAR")
    expect(page.locator("#consented")).to_contain_text("PANCR")

    page.get_by_role("button", name="Fetch Aadhaar").click()
    expect(page.locator("#masked-number")).to_have_text(re.compile(r"^xxxx-xxxx-\d{4}$"))
    expect(page.locator("#address")).not_to_be_empty()
    photo = page.locator("img.photo")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") > 0

    pan = next(doc for doc in user["documents"] if doc["docType"] == "PANCR")
    form = page.get_by_role("form", name=re.compile("Fetch"))
    for name, value in pan["parameters"].items():
        form.locator(f'input[name="param.{name}"]').fill(value)
    form.get_by_role("button", name="Fetch PANCR").click()
    link = page.locator("#open-document")
    expect(link).to_be_visible()
    opened = page.request.get(link.get_attribute("href") or "")
    assert opened.status == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.body().startswith(b"%PDF-")

    page.get_by_role("button", name="Revoke access").click()
    expect(page.locator("#status")).to_have_text("revoked")


def test_deny_comes_back_with_the_reason(page: Page, users: dict[str, dict[str, Any]]) -> None:
    start(page, ["PANCR"])
    sign_in(page, users["complete"])
    page.locator('button[name="decision"][value="deny"]').click()
    expect(page.get_by_role("heading", name="Verification not completed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("user_consent_not_given")


def test_wrong_otp_then_the_right_one_completes(
    page: Page, users: dict[str, dict[str, Any]]
) -> None:
    start(page, ["PANCR"])
    sign_in(page, users["complete"], wrong_otp=True)
    page.locator('button[name="decision"][value="allow"]').click()
    request_id_of(page)
    expect(page.locator("#status")).to_have_text("authenticated")


def test_reopening_a_finished_link_shows_already_done(
    page: Page, live: LiveGateway, users: dict[str, dict[str, Any]]
) -> None:
    start(page, ["PANCR"])
    sign_in(page, users["complete"])
    page.locator('button[name="decision"][value="allow"]').click()
    request_id = request_id_of(page)
    page.goto(f"{live.base_url}/digilocker/journey/{request_id}")
    expect(page.get_by_role("heading", name="Already done")).to_be_visible()
    assert "/simulator/" not in page.url


def tab_to(page: Page, selector: str) -> None:
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_alone_completes_the_demo_and_the_consent_page(
    page: Page, users: dict[str, dict[str, Any]]
) -> None:
    user = users["complete"]
    page.goto("/demo")
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")
    for _ in range(6):
        current = step(page)
        if current == "consent":
            break
        field = {"identify": "identifier", "otp": "otp", "pin": "pin"}[current]
        tab_to(page, f'input[name="{field}"]')
        page.keyboard.type(user[field])
        page.keyboard.press("Enter")
    assert step(page) == "consent"
    # Untick the first document with the space bar, then allow with the keyboard.
    tab_to(page, 'input[name="doctype"]')
    page.keyboard.press("Space")
    tab_to(page, 'button[name="decision"][value="allow"]')
    page.keyboard.press("Enter")
    request_id_of(page)
    expect(page.locator("#status")).to_have_text("authenticated")
    expect(page.locator("#consented")).to_have_text(re.compile(r"^PANCR$"))


def test_demo_page_loads_nothing_from_another_host(page: Page, live: LiveGateway) -> None:
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(request.url))
    page.goto("/demo")
    expect(page.get_by_role("button", name="Verify with DigiLocker")).to_be_visible()
    assert hosts
    assert all(url.startswith(live.base_url) for url in hosts), hosts
