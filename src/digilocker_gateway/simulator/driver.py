"""Walk the simulator's consent journey like a browser without JavaScript would.

`run_journey` reads each page's one form with the standard library's HTML parser, fills
`identifier`, `otp`, `pin`, `username`, the `doctype` checkboxes and the `decision` button (the
automation contract in docs/simulator.md), and follows redirects by hand until one leaves the
simulator. It walks every flow the same way: a page it is not shown (no PIN page on a PIN-less
sign-in, no OTP page when `verified_mobile` spares it) is simply not filled. The gateway's tests
use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

import httpx

__all__ = ["JourneyError", "JourneyPage", "run_journey"]

_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_STEPS = 30


class JourneyError(Exception):
    """The journey could not go on: an unexpected status, a page without a form, a page that
    keeps showing an error, or a requested document that is not on the consent page."""


@dataclass(frozen=True, slots=True)
class JourneyPage:
    """One page the journey showed: its form's `data-step` (`identify`, `otp`, `pin`,
    `account`, `consent`), its URL and its HTML, for tests that assert on what a page said."""

    step: str
    url: httpx.URL
    html: str


@dataclass
class _Form:
    action: str = ""
    method: str = "get"
    step: str = ""
    hidden: list[tuple[str, str]] = field(default_factory=list)
    text_inputs: list[str] = field(default_factory=list)
    prefilled: dict[str, str] = field(default_factory=dict)
    checkboxes: list[tuple[str, str, bool]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.alert: list[str] = []
        self._alert_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if self._alert_depth:
            self._alert_depth += 1
        elif values.get("role") == "alert":
            self._alert_depth = 1
        if tag == "form":
            self.forms.append(
                _Form(
                    values.get("action", ""),
                    values.get("method", "get").lower(),
                    values.get("data-step", ""),
                )
            )
            return
        if not self.forms or "name" not in values:
            return
        form, name = self.forms[-1], values["name"]
        if tag == "input":
            kind = values.get("type", "text").lower()
            if kind == "hidden":
                form.hidden.append((name, values.get("value", "")))
            elif kind == "checkbox":
                form.checkboxes.append((name, values.get("value", "on"), "checked" in values))
            elif kind not in ("submit", "button", "reset"):
                form.text_inputs.append(name)
                if values.get("value"):
                    form.prefilled[name] = values["value"]
        elif tag == "button":
            form.buttons.append((name, values.get("value", "")))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self._alert_depth:
            self._alert_depth -= 1

    def handle_endtag(self, _tag: str) -> None:
        if self._alert_depth:
            self._alert_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._alert_depth:
            self.alert.append(data)


def _inside(url: httpx.URL, root: httpx.URL) -> bool:
    same_origin = (url.scheme, url.host, url.port) == (root.scheme, root.host, root.port)
    prefix = root.path.rstrip("/")
    return same_origin and (
        url.path.startswith(f"{prefix}/public/") or url.path.startswith(f"{prefix}/_sim/")
    )


def _simulator_root(url: httpx.URL) -> httpx.URL | None:
    """Where the simulator is mounted, read off a URL of its authorize endpoint."""
    marker = url.path.find("/public/oauth2/")
    if marker < 0:
        return None
    return url.copy_with(path=url.path[:marker] or "/", query=None, fragment=None)


def _fill(
    form: _Form,
    *,
    identifier: str,
    otp: str,
    pin: str,
    username: str | None,
    decision: str,
    doctypes: Sequence[str] | None,
) -> list[tuple[str, str]]:
    data = list(form.hidden)
    # Without a username of its own, sign-up keeps the one the page offers (the user's, when
    # signing up again) or makes one from the identifier.
    made_up = "user" + "".join(ch for ch in identifier if ch.isalnum())
    chosen = username or form.prefilled.get("username") or made_up
    known = {"identifier": identifier, "otp": otp, "pin": pin, "username": chosen}
    for name in form.text_inputs:
        if name not in known:
            raise JourneyError(f"the page asks for an unknown field {name!r}")
        data.append((name, known[name]))
    offered = [value for name, value, _ in form.checkboxes if name == "doctype"]
    # The choice of documents applies to the consent page alone: the pages before it have no
    # doctype boxes, and a choice checked against them would always fail.
    if doctypes is None or form.step != "consent":
        data.extend((name, value) for name, value, checked in form.checkboxes if checked)
    else:
        absent = [doctype for doctype in doctypes if doctype not in offered]
        if absent:
            raise JourneyError(f"not on the consent page: {absent}; offered: {offered}")
        data.extend(("doctype", doctype) for doctype in doctypes)
    decisions = [value for name, value in form.buttons if name == "decision"]
    if decisions:
        if decision not in decisions:
            raise JourneyError(f"no {decision!r} button on the consent page")
        data.append(("decision", decision))
    return data


async def run_journey(
    client: httpx.AsyncClient,
    authorize_url: str,
    *,
    identifier: str,
    otp: str,
    pin: str,
    decision: Literal["allow", "deny"] = "allow",
    doctypes: Sequence[str] | None = None,
    username: str | None = None,
    pages: list[JourneyPage] | None = None,
) -> httpx.URL:
    """Sign in (or up), consent, and return the URL the simulator finally redirects to:
    the app's redirect URI with `code` + `state`, or with `error` + `error_description` + `state`.

    `authorize_url` may also be a URL that redirects to the authorize endpoint. `pin` is
    entered on the sign-in PIN page and set at sign-up, when those pages come; `username` is
    chosen at sign-up (default: `user` + the identifier). `doctypes=None` submits whatever the
    consent page pre-ticks. Each page shown is appended to `pages` when given. Raises
    `JourneyError` when the journey cannot complete (e.g. an unknown mobile number, an Aadhaar
    number not linked, a sign-in for someone without an account).
    """
    url = httpx.URL(authorize_url)
    # The URL may also be one that redirects to the simulator (e.g. a gateway's journey URL).
    root = _simulator_root(url)
    response = await client.get(url, follow_redirects=False)
    last_alert: tuple[str, str] | None = None
    for _ in range(_MAX_STEPS):
        if response.status_code in _REDIRECTS:
            target = response.url.join(response.headers.get("location", ""))
            root = root or _simulator_root(target)
            if root is not None and not _inside(target, root):
                return target
            response = await client.get(target, follow_redirects=False)
            continue
        if response.status_code != 200:
            raise JourneyError(
                f"HTTP {response.status_code} at {response.url.path}: {_text(response)}"
            )
        if root is None:
            raise JourneyError(f"{response.url} is not a simulator page")
        parser = _PageParser()
        parser.feed(response.text)
        alert = " ".join("".join(parser.alert).split())
        if len(parser.forms) != 1:
            raise JourneyError(f"expected one form at {response.url.path}; alert: {alert!r}")
        form = parser.forms[0]
        if pages is not None:
            pages.append(JourneyPage(form.step, response.url, response.text))
        if alert:
            # The same page with the same error twice means the input will never be accepted
            # (a wrong OTP or PIN instead ends the journey after the configured attempts).
            key = (",".join(form.text_inputs), alert)
            if "identifier" in form.text_inputs or key == last_alert:
                raise JourneyError(alert)
            last_alert = key
        data = _fill(
            form,
            identifier=identifier,
            otp=otp,
            pin=pin,
            username=username,
            decision=decision,
            doctypes=doctypes,
        )
        target = response.url.join(form.action or response.url.path)
        if form.method != "post":
            raise JourneyError(f"the form at {response.url.path} is not a POST form")
        response = await client.post(target, data=_group(data), follow_redirects=False)
    raise JourneyError(f"the journey did not finish within {_MAX_STEPS} pages")


def _group(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _text(response: httpx.Response) -> str:
    """The error a page shows (its role="alert" text), else the start of the body."""
    parser = _PageParser()
    parser.feed(response.text)
    alert = " ".join("".join(parser.alert).split())
    return alert or " ".join(response.text.split())[:300]
