"""DigiLockerClient over httpx.MockTransport: request shapes and error mapping.

Retries are in test_client_retries.py; file downloads and the hmac check in test_client_files.py.
"""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest

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
    CLIENT_ID,
    CLIENT_SECRET,
    NOW,
    REDIRECT_URI,
    TOKEN_BODY,
    Upstream,
    client_for,
    dl_error,
    form_of,
    ok,
)

# OAuth request shapes ---------------------------------------------------------------------------


async def test_exchange_code_posts_form_with_client_credentials_and_verifier() -> None:
    upstream = Upstream(ok(TOKEN_BODY))
    async with client_for(upstream) as (client, _):
        token = await client.exchange_code("code-1", "verifier-1")
    request = upstream.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/oauth2/1/token"
    assert upstream.form == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": "verifier-1",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert "authorization" not in request.headers
    assert token.access_token == ACCESS_TOKEN
    assert token.scope == ("userdetails", "partners.PANCR")


async def test_exchange_code_uses_configured_oidc_token_path() -> None:
    upstream = Upstream(ok(TOKEN_BODY))
    async with client_for(upstream, token_path="/oauth2/2/token") as (client, _):
        await client.exchange_code("code-1", "verifier-1")
    assert upstream.requests[0].url.path == "/public/oauth2/2/token"


async def test_refresh_posts_refresh_grant_form() -> None:
    upstream = Upstream(ok(TOKEN_BODY))
    async with client_for(upstream) as (client, _):
        token = await client.refresh("old-refresh")
    assert upstream.form == {
        "grant_type": "refresh_token",
        "refresh_token": "old-refresh",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert token.refresh_token == TOKEN_BODY["refresh_token"]


async def test_revoke_posts_token_and_hint_with_basic_client_auth() -> None:
    upstream = Upstream(httpx.Response(200))
    async with client_for(upstream) as (client, _):
        await client.revoke("tok-1", token_type_hint="refresh_token")
    request = upstream.requests[0]
    assert request.url.path == "/public/oauth2/1/revoke"
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"
    assert upstream.form == {"token": "tok-1", "token_type_hint": "refresh_token"}


async def test_revoke_without_hint_sends_only_the_token() -> None:
    upstream = Upstream(httpx.Response(200, text="OK"))
    async with client_for(upstream) as (client, _):
        await client.revoke("tok-1")
    assert upstream.form == {"token": "tok-1"}


async def test_revoke_invalid_token_raises_response_error() -> None:
    upstream = Upstream(dl_error(400, "invalid_token", "The token is invalid"))
    async with client_for(upstream) as (client, _):
        with pytest.raises(UpstreamResponseError) as caught:
            await client.revoke("tok-1")
    assert (caught.value.status, caught.value.error) == (400, "invalid_token")
    assert caught.value.description == "The token is invalid"


# Bearer APIs ------------------------------------------------------------------------------------


async def test_user_sends_bearer_get_and_parses_profile() -> None:
    upstream = Upstream(ok({"digilockerid": "uuid-1", "eaadhaar": "Y", "email": "a@example.com"}))
    async with client_for(upstream) as (client, _):
        user = await client.user(ACCESS_TOKEN)
    request = upstream.requests[0]
    assert (request.method, request.url.path) == ("GET", "/public/oauth2/1/user")
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert (user.digilockerid, user.eaadhaar, user.email) == ("uuid-1", "Y", "a@example.com")


async def test_issued_documents_reads_v2_list_from_configured_path() -> None:
    item = {"uri": "in.gov.x-PANCR-1", "doctype": "PANCR", "mime": "application/pdf"}
    upstream = Upstream(ok({"items": [item], "resource": "r"}))
    async with client_for(upstream) as (client, _):
        documents = await client.issued_documents(ACCESS_TOKEN)
    assert upstream.requests[0].url.path == "/public/oauth2/2/files/issued"
    assert upstream.requests[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert [(d.uri, d.mime) for d in documents] == [("in.gov.x-PANCR-1", ("application/pdf",))]


async def test_pull_document_posts_consent_and_search_parameters_with_bearer() -> None:
    upstream = Upstream(ok({"uri": "in.gov.x-DRVLC-9"}))
    async with client_for(upstream) as (client, _):
        uri = await client.pull_document(
            ACCESS_TOKEN, "002317", "DRVLC", {"dl_no": "KA0120200001234", "dob": "01-12-1970"}
        )
    request = upstream.requests[0]
    assert request.url.path == "/public/oauth2/1/pull/pulldocument"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert upstream.form == {
        "orgid": "002317",
        "doctype": "DRVLC",
        "consent": "Y",
        "dl_no": "KA0120200001234",
        "dob": "01-12-1970",
    }
    assert uri == "in.gov.x-DRVLC-9"


async def test_pull_document_parameter_cannot_override_consent() -> None:
    upstream = Upstream(ok({"uri": "u"}))
    async with client_for(upstream) as (client, _):
        with pytest.raises(ValueError, match="consent"):
            await client.pull_document(ACCESS_TOKEN, "1", "DRVLC", {"consent": "N"})
    assert upstream.requests == []


@pytest.mark.parametrize("status", [400, 500])
async def test_pull_document_error_is_keyed_on_error_string_whatever_the_status(
    status: int,
) -> None:
    upstream = Upstream(dl_error(status, "uri_exists", "Already issued"))
    async with client_for(upstream) as (client, _):
        with pytest.raises(UpstreamResponseError) as caught:
            await client.pull_document(ACCESS_TOKEN, "1", "DRVLC", {})
    assert caught.value.error == "uri_exists"
    assert caught.value.status == status
    assert len(upstream.requests) == 1  # a pull is never retried, even after a 500


# Signed meta-APIs -------------------------------------------------------------------------------


def _expected_hash(*parts: str) -> str:
    return hashlib.sha256("".join(parts).encode()).hexdigest()


async def test_pull_issuers_signs_clientid_and_ts_with_hash_of_secret_clientid_ts() -> None:
    upstream = Upstream(ok({"issuers": [{"orgid": "002317", "name": "Transport"}]}))
    async with client_for(upstream) as (client, _):
        issuers = await client.pull_issuers()
    assert upstream.requests[0].url.path == "/public/oauth2/1/pull/issuers"
    assert "authorization" not in upstream.requests[0].headers
    assert upstream.form == {
        "clientid": CLIENT_ID,
        "ts": str(NOW),
        "hmac": _expected_hash(CLIENT_SECRET, CLIENT_ID, str(NOW)),
    }
    assert [issuer.orgid for issuer in issuers] == ["002317"]


async def test_pull_doctypes_hash_includes_orgid() -> None:
    upstream = Upstream(ok({"documents": [{"doctype": "DRVLC", "description": "DL"}]}))
    async with client_for(upstream) as (client, _):
        doctypes = await client.pull_doctypes("002317")
    assert upstream.requests[0].url.path == "/public/oauth2/1/pull/doctype"
    assert upstream.form["orgid"] == "002317"
    assert upstream.form["hmac"] == _expected_hash(CLIENT_SECRET, CLIENT_ID, "002317", str(NOW))
    assert [d.doctype for d in doctypes] == ["DRVLC"]


async def test_pull_parameters_hash_follows_configured_order_and_base64_encoding() -> None:
    upstream = Upstream(ok([{"paramname": "dl_no", "label": "Licence", "valuelist": None}]))
    order = ("ts", "clientid", "orgid", "doctype", "client_secret")
    async with client_for(upstream, meta_hash_fields=order, meta_hash_encoding="base64") as (
        client,
        _,
    ):
        parameters = await client.pull_parameters("002317", "DRVLC")
    form = upstream.form
    assert upstream.requests[0].url.path == "/public/oauth2/1/pull/parameters"
    assert (form["orgid"], form["doctype"], form["ts"]) == ("002317", "DRVLC", str(NOW))
    digest = hashlib.sha256(f"{NOW}{CLIENT_ID}002317DRVLC{CLIENT_SECRET}".encode()).digest()
    assert form["hmac"] == base64.b64encode(digest).decode()
    assert [p.paramname for p in parameters] == ["dl_no"]


async def test_meta_api_retry_is_signed_again_with_a_fresh_ts() -> None:
    ticks = iter([NOW, NOW + 7])
    upstream = Upstream(dl_error(503, "unexpected_error"), ok({"issuers": []}))
    async with client_for(upstream, clock=lambda: next(ticks)) as (client, _):
        assert await client.pull_issuers() == []
    first, second = (form_of(request) for request in upstream.requests)
    assert (first["ts"], second["ts"]) == (str(NOW), str(NOW + 7))
    assert second["hmac"] == _expected_hash(CLIENT_SECRET, CLIENT_ID, str(NOW + 7))


# Error mapping ----------------------------------------------------------------------------------


async def test_json_error_becomes_response_error_with_status_code_and_description() -> None:
    upstream = Upstream(dl_error(403, "insufficient_scope", "needs more"))
    async with client_for(upstream) as (client, _):
        with pytest.raises(UpstreamResponseError) as caught:
            await client.user(ACCESS_TOKEN)
    error = caught.value
    assert (error.status, error.error, error.description) == (
        403,
        "insufficient_scope",
        "needs more",
    )
    assert not error.temporary
    assert len(upstream.requests) == 1  # 4xx is not retried


async def test_non_json_success_body_is_malformed() -> None:
    upstream = Upstream(httpx.Response(200, text="<html>maintenance</html>"))
    async with client_for(upstream) as (client, _):
        with pytest.raises(UpstreamMalformedResponse) as caught:
            await client.user(ACCESS_TOKEN)
    assert caught.value.status == 200


async def test_json_of_wrong_shape_is_malformed() -> None:
    upstream = Upstream(ok(["not", "a", "token"]))
    async with client_for(upstream) as (client, _):
        with pytest.raises(UpstreamMalformedResponse):
            await client.exchange_code("code-1", "verifier-1")


async def test_error_status_without_error_object_is_malformed_and_keeps_status() -> None:
    upstream = Upstream(httpx.Response(404, text="Not Found"))
    async with client_for(upstream) as (client, _):
        with pytest.raises(UpstreamMalformedResponse) as caught:
            await client.issued_documents(ACCESS_TOKEN)
    assert caught.value.status == 404
    assert not caught.value.temporary


async def test_timeout_becomes_upstream_timeout() -> None:
    upstream = Upstream(httpx.ReadTimeout("read timed out"))
    async with client_for(upstream, max_retries=0) as (client, _):
        with pytest.raises(UpstreamTimeout):
            await client.user(ACCESS_TOKEN)


async def test_dropped_connection_becomes_transport_error_not_timeout() -> None:
    upstream = Upstream(httpx.RemoteProtocolError("peer closed connection"))
    async with client_for(upstream, max_retries=0) as (client, _):
        with pytest.raises(UpstreamTransportError) as caught:
            await client.user(ACCESS_TOKEN)
    assert not isinstance(caught.value, UpstreamTimeout)
    assert caught.value.temporary


async def test_messages_and_logs_never_contain_tokens_or_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    upstream = Upstream(httpx.ConnectError("refused"), dl_error(401, "invalid_token"))
    raised: list[UpstreamError] = []
    async with client_for(upstream) as (client, _):
        for call in (client.user(ACCESS_TOKEN), client.exchange_code("code-1", "verifier-1")):
            with pytest.raises(UpstreamError) as caught:
                await call
            raised.append(caught.value)
    text = caplog.text + " ".join(str(error) for error in raised)
    assert "invalid_token" in text
    for secret in (ACCESS_TOKEN, CLIENT_SECRET, "verifier-1", "code-1"):
        assert secret not in text
    assert CLIENT_SECRET not in repr(client.credentials)
