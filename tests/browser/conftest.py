"""Real headless Chromium (Debian's `chromium` package, never a browser download) driven by
Playwright against a gateway served over TCP. Without /usr/bin/chromium these tests skip,
saying so; `.ci/run` installs it. A failed test leaves a screenshot in
$DLG_TEST_SCREENSHOT_DIR (default ./test-artifacts/screenshots)."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from digilocker_gateway.documents.catalogue import CatalogueDocument
from tests.live_server import LiveGateway, live_gateway

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("DLG_TEST_SCREENSHOT_DIR", "test-artifacts/screenshots"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    del call
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, catalogue_documents: list[CatalogueDocument]
) -> Iterator[LiveGateway]:
    with live_gateway(tmp_path_factory.mktemp("browser-gateway"), catalogue_documents) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live: LiveGateway, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url)
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    try:
        yield opened
    finally:
        if request.node.stash.get(FAILED, False):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
            opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        context.close()


@pytest.fixture(scope="module")
def users(live: LiveGateway) -> dict[str, dict[str, Any]]:
    listed = httpx.get(f"{live.base_url}/simulator/_sim/users").json()
    by_scenario: dict[str, dict[str, Any]] = {}
    for user in listed:
        by_scenario.setdefault(user["scenario"], user)
    return by_scenario
