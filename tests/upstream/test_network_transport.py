"""The upstream client over its network transport (aiohttp under httpx, upstream/transport.py)
against a real simulator on 127.0.0.1: the same answers, HMAC-checked streams, httpx's error
types for dropped and hung connections (so the upstream errors and retries are unchanged), and
no cookie carried from one call to the next."""

from __future__ import annotations

import asyncio
import socket
import traceback
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from digilocker_gateway.config import Settings
from digilocker_gateway.simulator.app import create_simulator_app
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.simulator.settings import SimulatorSettings
from digilocker_gateway.upstream.client import DigiLockerClient, PartnerCredentials
from digilocker_gateway.upstream.errors import UpstreamTimeout, UpstreamTransportError
from digilocker_gateway.upstream.protocol import authorize_url, make_pkce_pair, make_state
from digilocker_gateway.upstream.transport import upstream_http_client
from tests.serving import serve_app
from tests.simulator.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI


def settings(tmp_path_factory: pytest.TempPathFactory, **values: Any) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), **values)


def credentials(base: str) -> PartnerCredentials:
    return PartnerCredentials(
        base_url=f"{base}/public",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        max_retries=0,
    )


async def consented_token(client: DigiLockerClient, base: str) -> str:
    """A user's access token, through the simulator's pages and the client's token exchange."""
    async with httpx.AsyncClient(timeout=10) as browser:
        users = (await browser.get(f"{base}/_sim/users")).json()
        user = next(u for u in users if u["scenario"] == "complete")
        verifier, challenge = make_pkce_pair()
        url = authorize_url(
            f"{base}/public",
            client_id=CLIENT_ID,
            redirect_uri=REDIRECT_URI,
            state=make_state(),
            code_challenge=challenge,
        )
        final = await run_journey(
            browser, url, identifier=user["identifier"], otp=user["otp"], pin=user["pin"]
        )
    tokens = await client.exchange_code(final.params["code"], verifier)
    return tokens.access_token


def answering(status: int, body: bytes, paths: list[str] | None = None) -> Any:
    """A bare ASGI app that answers every request with `status` and `body`, recording each
    request's path in `paths` (a forward proxy is asked for the absolute URL)."""

    async def app(scope: Scope, _receive: Receive, send: Send) -> None:
        if paths is not None:
            paths.append(scope["path"])
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_calls_and_hmac_checked_files_over_the_network_transport(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    app = create_simulator_app(SimulatorSettings())
    async with (
        serve_app(app) as base,
        upstream_http_client(settings(tmp_path_factory)) as http,
    ):
        client = DigiLockerClient(http, credentials(base))
        token = await consented_token(client, base)
        user = await client.user(token)
        issued = await client.issued_documents(token)
        assert user.digilockerid
        assert issued
        pdf = next(item for item in issued if "application/pdf" in item.mime)
        async with client.stream_file(token, pdf.uri) as download:
            body = b"".join([chunk async for chunk in download.iter_chunks()])
        assert body.startswith(b"%PDF")


async def test_a_dropped_connection_is_a_transport_error_and_a_hung_one_a_timeout(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    app = create_simulator_app(SimulatorSettings())
    faults = "/_sim/admin/faults"
    async with (
        serve_app(app) as base,
        upstream_http_client(settings(tmp_path_factory, upstream_read_timeout_seconds=0.5)) as http,
        httpx.AsyncClient(base_url=base) as admin,
    ):
        client = DigiLockerClient(http, credentials(base))
        token = await consented_token(client, base)

        assert (await admin.put(faults, json={"user": {"drop": True}})).status_code == 200
        with pytest.raises(UpstreamTransportError) as dropped:
            await client.user(token)
        assert not isinstance(dropped.value, UpstreamTimeout)

        assert (await admin.put(faults, json={"user": {"timeout": True}})).status_code == 200
        with pytest.raises(UpstreamTimeout):
            await client.user(token)

        assert (await admin.delete(faults)).status_code in (200, 204)
        assert (await client.user(token)).digilockerid  # the pool recovers


async def test_no_cookie_set_by_one_answer_is_sent_with_the_next_call(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    async def set_cookie(_request: Request) -> JSONResponse:
        answer = JSONResponse({})
        answer.set_cookie("AWSALB", "sticky-synthetic")
        return answer

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"cookie": request.headers.get("cookie")})

    app = Starlette(routes=[Route("/set", set_cookie), Route("/echo", echo)])
    async with serve_app(app) as base, upstream_http_client(settings(tmp_path_factory)) as http:
        first = await http.get(f"{base}/set")
        assert "AWSALB" in first.headers["set-cookie"]
        echoed = await http.get(f"{base}/echo")
    assert echoed.json() == {"cookie": None}


async def test_a_refused_connection_is_a_transport_error_not_a_timeout(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens once the socket is closed
    async with upstream_http_client(settings(tmp_path_factory)) as http:
        client = DigiLockerClient(http, credentials(f"http://127.0.0.1:{port}"))
        with pytest.raises(UpstreamTransportError) as refused:
            await client.user("synthetic-token")
    assert not isinstance(refused.value, UpstreamTimeout)


async def test_a_malformed_answer_is_a_transport_error_whose_message_has_no_uri(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    async def garbage(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"NOT-HTTP garbage\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    uri = "in.gov.uidai-ADHAR-999999990019"
    try:
        async with upstream_http_client(settings(tmp_path_factory)) as http:
            client = DigiLockerClient(http, credentials(f"http://127.0.0.1:{port}"))

            async def read_all() -> None:
                async with client.stream_file("synthetic-token", uri) as download:
                    async for _ in download.iter_chunks():
                        pass

            with pytest.raises(UpstreamTransportError) as malformed:
                await read_all()
    finally:
        server.close()
        await server.wait_closed()
    assert not isinstance(malformed.value, UpstreamTimeout)
    # Nothing a traceback of it would show names the document.
    shown = "".join(traceback.format_exception(malformed.value))
    assert "RemoteProtocolError" in shown
    assert uri not in shown


async def test_calls_go_through_the_proxy_the_environment_names(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    proxy = answering(200, b'{"digilockerid": "via-proxy"}', seen)
    async with serve_app(proxy) as proxy_base:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_base)
        async with upstream_http_client(settings(tmp_path_factory)) as http:
            client = DigiLockerClient(http, credentials("http://digilocker.invalid"))
            user = await client.user("synthetic-token")
    assert user.digilockerid == "via-proxy"
    assert seen == ["http://digilocker.invalid/public/oauth2/1/user"]


async def test_a_host_no_proxy_names_is_reached_directly(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    through_proxy: list[str] = []
    proxy = answering(502, b"", through_proxy)
    digilocker = answering(200, b'{"digilockerid": "direct"}')
    async with serve_app(proxy) as proxy_base, serve_app(digilocker) as base:
        for name in ("HTTPS_PROXY", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_base)
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with upstream_http_client(settings(tmp_path_factory)) as http:
            client = DigiLockerClient(http, credentials(base))
            first = await client.user("synthetic-token")
            second = await client.user("synthetic-token")  # the origin's choice, kept
    assert (first.digilockerid, second.digilockerid) == ("direct", "direct")
    assert through_proxy == []


async def test_credentials_in_a_netrc_file_are_never_sent_to_digilocker(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    # An operator's ~/.netrc is for their own tools: the gateway sends DigiLocker the
    # authorisation its calls carry and nothing else.
    authorisations: list[str | None] = []

    async def digilocker(scope: Scope, _receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        authorisations.append(headers.get(b"authorization", b"").decode() or None)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"digilockerid": "synthetic"}'})

    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login operator password not-for-digilocker\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    async with serve_app(digilocker) as base:
        async with upstream_http_client(settings(tmp_path_factory)) as http:
            await http.get(f"{base}/public/oauth2/1/user")
            client = DigiLockerClient(http, credentials(base))
            await client.user("synthetic-token")
    assert authorisations == [None, "Bearer synthetic-token"]
