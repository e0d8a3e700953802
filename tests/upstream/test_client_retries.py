"""DigiLockerClient retries: only idempotent calls, only after transport failures and 5xx,
bounded, with exponential backoff; never token exchange, refresh, pull-document or revoke."""

from __future__ import annotations

import httpx
import pytest

from digilocker_gateway.upstream.client import PartnerCredentials
from digilocker_gateway.upstream.errors import (
    UpstreamError,
    UpstreamMalformedResponse,
    UpstreamResponseError,
    UpstreamTimeout,
    UpstreamTransportError,
)
from tests.upstream.fakes import (
    ACCESS_TOKEN,
    BASE_URL,
    TOKEN_BODY,
    Upstream,
    client_for,
    dl_error,
    ok,
)


async def test_idempotent_get_retries_5xx_and_530_with_exponential_backoff() -> None:
    upstream = Upstream(
        dl_error(500, "unexpected_error"),
        dl_error(530, "repository_service_unresponsive"),
        ok({"digilockerid": "uuid-1"}),
    )
    async with client_for(upstream) as (client, pauses):
        user = await client.user(ACCESS_TOKEN)
    assert user.digilockerid == "uuid-1"
    assert len(upstream.requests) == 3
    # Exponential, with up to one backoff of jitter added (tenacity's wait_exponential_jitter).
    assert 0.2 <= pauses[0] <= 0.4
    assert 0.4 <= pauses[1] <= 0.6
    assert len(pauses) == 2


async def test_retries_stop_after_max_retries_and_raise_the_last_error() -> None:
    upstream = Upstream(dl_error(530, "repository_service_unresponsive"))
    async with client_for(upstream, max_retries=3, backoff_seconds=1.0) as (client, pauses):
        with pytest.raises(UpstreamResponseError) as caught:
            await client.issued_documents(ACCESS_TOKEN)
    assert caught.value.status == 530
    assert caught.value.temporary
    assert len(upstream.requests) == 4
    assert all(
        base <= pause <= base + 1.0 for base, pause in zip([1.0, 2.0, 4.0], pauses, strict=True)
    )


async def test_transport_errors_on_get_are_retried_until_success() -> None:
    upstream = Upstream(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok({"items": []}))
    async with client_for(upstream) as (client, _):
        assert await client.issued_documents(ACCESS_TOKEN) == []
    assert len(upstream.requests) == 3


async def test_persistent_timeout_on_get_raises_timeout_after_all_attempts() -> None:
    upstream = Upstream(httpx.ConnectTimeout("slow"))
    async with client_for(upstream, max_retries=2) as (client, _):
        with pytest.raises(UpstreamTimeout):
            await client.user(ACCESS_TOKEN)
    assert len(upstream.requests) == 3


async def test_non_json_502_is_retried_then_malformed_with_status() -> None:
    upstream = Upstream(httpx.Response(502, text="<html>Bad Gateway</html>"))
    async with client_for(upstream, max_retries=1) as (client, _):
        with pytest.raises(UpstreamMalformedResponse) as caught:
            await client.pull_issuers()
    assert len(upstream.requests) == 2
    assert caught.value.status == 502
    assert caught.value.temporary


@pytest.mark.parametrize(
    "answer",
    [dl_error(500, "unexpected_error"), httpx.ConnectError("refused"), httpx.ReadTimeout("x")],
)
async def test_token_exchange_is_never_retried(answer: httpx.Response | Exception) -> None:
    upstream = Upstream(answer, ok(TOKEN_BODY))
    async with client_for(upstream) as (client, pauses):
        with pytest.raises(UpstreamError):
            await client.exchange_code("code-1", "verifier-1")
    assert len(upstream.requests) == 1
    assert pauses == []


@pytest.mark.parametrize("operation", ["refresh", "revoke"])
async def test_refresh_and_revoke_are_never_retried(operation: str) -> None:
    upstream = Upstream(httpx.ConnectError("refused"), ok(TOKEN_BODY))
    async with client_for(upstream) as (client, _):
        call = client.refresh("r") if operation == "refresh" else client.revoke("r")
        with pytest.raises(UpstreamTransportError):
            await call
    assert len(upstream.requests) == 1


async def test_zero_max_retries_makes_a_single_attempt() -> None:
    upstream = Upstream(dl_error(503, "repository_service_inactive"), ok({"items": []}))
    async with client_for(upstream, max_retries=0) as (client, _):
        with pytest.raises(UpstreamResponseError):
            await client.issued_documents(ACCESS_TOKEN)
    assert len(upstream.requests) == 1


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        PartnerCredentials(
            base_url=BASE_URL, client_id="c", client_secret="s", redirect_uri="r", max_retries=-1
        )
