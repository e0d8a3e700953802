"""The account check (docs/journey-options.md §4): POST /api/digilocker/accounts/verify, end to
end through the gateway and the embedded simulator's /account/2/verify."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digilocker_gateway.db.models import RateLimitWindow
from digilocker_gateway.tenants.service import set_journey_options
from tests.simulator.test_journey import unknown_aadhaar
from tests.support import Gateway, sim_user, sim_users

PATH = "/api/digilocker/accounts/verify"


async def verify(gateway: Gateway, body: Any) -> Any:
    return await gateway.client.post(PATH, json=body, headers=gateway.headers)


async def limited_gateway(gateway: Gateway, **changes: object) -> Gateway:
    headers = await gateway.new_client_headers()
    async with gateway.runtime.transaction() as session:
        await set_journey_options(session, headers["x-product-instance-id"], changes)
    return replace(gateway, headers=headers)


async def test_known_mobile_number_exists(gateway: Gateway) -> None:
    user = await sim_user(gateway, "complete")

    response = await verify(gateway, {"mobile": f"+91-{user['mobile']}"})

    assert response.status_code == 200, response.text
    assert response.json() == {"exists": True}


async def test_known_aadhaar_number_exists(gateway: Gateway) -> None:
    user = await sim_user(gateway, "complete")
    spaced = " ".join(user["aadhaar"][i : i + 4] for i in range(0, 12, 4))

    response = await verify(gateway, {"aadhaar": spaced})

    assert response.json() == {"exists": True}


async def test_user_without_an_account_does_not_exist(gateway: Gateway) -> None:
    user = await sim_user(gateway, "new-user")

    response = await verify(gateway, {"mobile": user["mobile"]})

    assert response.json() == {"exists": False}


async def test_unknown_aadhaar_number_does_not_exist(gateway: Gateway) -> None:
    known = {u["aadhaar"] for u in await sim_users(gateway)}

    response = await verify(gateway, {"aadhaar": unknown_aadhaar(known)})

    assert response.json() == {"exists": False}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "0123456789"}, "mobile"),
        ({"aadhaar": "123412341235"}, "aadhaar"),  # a failing check digit
        ({"aadhaar": "XXXXXXXX1234"}, "aadhaar"),
        ({}, "exactly one"),
        ({"mobile": "5000000001", "aadhaar": unknown_aadhaar(set())}, "exactly one"),
    ],
)
async def test_malformed_number_is_400_naming_the_field_and_never_echoed(
    gateway: Gateway, body: dict[str, str], named: str
) -> None:
    response = await verify(gateway, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_payload"
    assert named in error["detail"]
    for value in body.values():
        assert value not in error["detail"]


async def test_number_is_neither_stored_nor_logged(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await sim_user(gateway, "complete")

    await verify(gateway, {"aadhaar": user["aadhaar"]})
    await verify(gateway, {"mobile": user["mobile"]})

    ours = [r for r in caplog.records if r.name.startswith("digilocker_gateway")]
    for record in ours:
        assert user["aadhaar"] not in record.getMessage()
        assert user["mobile"] not in record.getMessage()
    async with gateway.runtime.reading() as session:
        windows = (await session.execute(select(RateLimitWindow))).scalars().all()
    assert [w.count for w in windows] == [2]
    assert all(user["mobile"] not in w.key for w in windows)


async def test_checks_beyond_the_instance_rate_are_429_until_the_next_minute(
    gateway: Gateway,
) -> None:
    limited = await limited_gateway(gateway, account_checks_per_minute=3)
    user = await sim_user(gateway, "complete")
    # Start at the beginning of a minute so that the calls below share one window.
    now = gateway.clock.now()
    gateway.clock.set(now.replace(second=0, microsecond=0) + timedelta(minutes=1))

    answers = [(await verify(limited, {"mobile": user["mobile"]})).status_code for _ in range(3)]
    gateway.clock.advance(20.5)
    refused = await verify(limited, {"mobile": user["mobile"]})
    answers.append(refused.status_code)
    assert refused.headers["retry-after"] == "40"  # the window ends at the next minute
    other_instance = await verify(gateway, {"mobile": user["mobile"]})
    gateway.clock.advance(40)
    next_minute = await verify(limited, {"mobile": user["mobile"]})

    assert answers == [200, 200, 200, 429]
    assert other_instance.status_code == 200
    assert next_minute.status_code == 200


async def test_rate_limited_answer_is_the_error_envelope(gateway: Gateway) -> None:
    limited = await limited_gateway(gateway, account_checks_per_minute=0)

    response = await verify(limited, {"mobile": "5000000001"})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


async def test_account_check_not_allowed_for_the_instance_is_403(gateway: Gateway) -> None:
    limited = await limited_gateway(gateway, allowed_extensions="flow,purpose")

    response = await verify(limited, {"mobile": "5000000001"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "extension_not_allowed"


async def test_account_check_needs_credentials(gateway: Gateway) -> None:
    response = await gateway.client.post(PATH, json={"mobile": "5000000001"})

    assert response.status_code == 401
