"""Client-credential calls about accounts: `POST /account/2/verify` (is this Aadhaar or mobile
number on DigiLocker?) and `POST /statistics/1/counts`
(docs/reference/digilocker-partner-api.md §18).

Both are signed forms like the meta APIs (`clientid`, `ts`, `hmac`; multipart or URL-encoded,
docs/reference/digilocker-partner-api.md §11, §18) and are answered from the seeded users and
the accounts made in this process.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from digilocker_gateway.kit.timefmt import IST
from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.errors import SimError
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.oauth import form_text
from digilocker_gateway.simulator.pull import check_signed_form
from digilocker_gateway.simulator.resources import issued_at


def _digits(value: str | None) -> str | None:
    if value is None:
        return None
    return "".join(ch for ch in value if ch not in " -")


def _number(value: str | None, *, name: str, length: int) -> str | None:
    digits = _digits(value)
    if digits is None:
        return None
    if name == "mobile" and len(digits) == 13 and digits.startswith("+91"):
        digits = digits[3:]
    if not (digits.isdigit() and len(digits) == length):
        raise SimError("invalid_parameter", f"The {name} parameter is invalid", 400)
    return digits


async def verify_account(ctx: SimulatorContext, request: Request) -> Response:
    """POST /public/account/2/verify: `{"registered": "true" | "false", "digilockerid"}`; the
    id is `""` when nothing is registered (docs/reference/digilocker-partner-api.md §18)."""
    form = await request.form()
    check_signed_form(ctx, form, "account")
    uid = _number(form_text(form, "uid"), name="uid", length=12)
    mobile = _number(form_text(form, "mobile"), name="mobile", length=10)
    if uid is None and mobile is None:
        raise SimError("invalid_parameter", "Either one of uid or mobile number is mandatory", 400)
    account = ctx.state.account_for(uid=uid, mobile=mobile)
    return JSONResponse(
        {
            "registered": "true" if account is not None else "false",
            "digilockerid": account.digilockerid if account is not None else "",
        }
    )


def registered_on(ctx: SimulatorContext, user: SimUser) -> datetime:
    """When the account was made: in this process for a sign-up, else a stable date before
    2021 derived from the user."""
    made = ctx.state.registered_at.get(user.digilockerid)
    if made is not None:
        return made
    days = int(hashlib.sha256(user.digilockerid.encode()).hexdigest()[:6], 16) % 1800
    return datetime(2016, 1, 1, 12, 0, tzinfo=UTC) + timedelta(days=days)


def _last_twelve_months(today: datetime) -> list[tuple[int, int]]:
    months = []
    year, month = today.year, today.month
    for _ in range(12):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _month_end(year: int, month: int) -> datetime:
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=IST)
    return following.astimezone(UTC)


async def statistics(ctx: SimulatorContext, request: Request) -> Response:
    """POST /public/statistics/1/counts: counts of this simulator's accounts, issued documents,
    issuers and partner apps, with the spec's two history lists as arrays of items
    (docs/reference/digilocker-partner-api.md §18)."""
    check_signed_form(ctx, await request.form(), "statistics")
    now = ctx.clock.now()
    today = now.astimezone(IST)
    accounts = [registered_on(ctx, user) for user in ctx.state.users if user.has_account]
    issued = [
        issued_at(ctx, document).astimezone(IST)
        for user in ctx.state.users
        for document in user.documents
        if document.issued
    ]
    monthwise: list[dict[str, Any]] = [
        {
            "id": year * 100 + month,
            "month": month,
            "year": year,
            "count": sum(1 for made in accounts if made < _month_end(year, month)),
        }
        for year, month in _last_twelve_months(today)
    ]
    first_year = min((moment.year for moment in issued), default=today.year)
    yearwise: list[dict[str, Any]] = [
        {"id": year, "year": year, "count": sum(1 for moment in issued if moment.year <= year)}
        for year in range(first_year, today.year + 1)
    ]
    return JSONResponse(
        {
            "users": str(len(accounts)),
            "authentic_documents": str(len(issued)),
            "issuers": str(len(ctx.catalogue.issuers)),
            "requestors": str(len(ctx.state.apps)),
            "count_as_on": today.strftime("%d%m%Y"),
            # The spec's spelling (docs/reference/digilocker-partner-api.md §15).
            "monthwise_registations": monthwise,
            "yearwise_authentic_documents": yearwise,
        }
    )
