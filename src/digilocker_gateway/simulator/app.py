"""`create_simulator_app`: the simulator's Starlette app, served alone or mounted under a prefix.

Every handler goes through `_endpoint`, which injects faults and turns errors into DigiLocker's
JSON error object (or an HTML page in the journey), so no traceback ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digilocker_gateway.kit.clock import Clock, SystemClock
from digilocker_gateway.simulator import (
    accounts,
    admin,
    journey,
    oauth,
    pages,
    pull,
    resources,
    tokens,
    uploaded,
)
from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.errors import (
    PageError,
    SimError,
    error_response,
    provider_status,
)
from digilocker_gateway.simulator.faults import (
    DroppedResponse,
    HangResponse,
    TrickledResponse,
    malformed,
    wrong_hmac,
)
from digilocker_gateway.simulator.settings import SimulatorSettings

logger = logging.getLogger("digilocker_gateway.simulator")

Handler = Callable[[SimulatorContext, Request], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _endpoint(ctx: SimulatorContext, name: str | None, handler: Handler) -> Endpoint:
    async def run(request: Request) -> Response:
        injected = ctx.faults.for_call(name) if name else None
        fault = injected.faults if injected is not None else None
        try:
            if injected is not None:
                fault = injected.faults
                if fault.latency_ms:
                    await anyio.sleep(fault.latency_ms / 1000)
                if fault.timeout:
                    return HangResponse()
                if injected.error:
                    status = fault.status or provider_status(ctx.status_profile)
                    return error_response(fault.error, fault.error_description, status)
            response = await handler(ctx, request)
        except SimError as exc:
            response = exc.response()
        except PageError as exc:
            response = pages.error_page(exc.message, exc.status)
        except Exception as exc:
            # The type only: messages of library errors can carry tokens or personal data.
            logger.error("simulator: unexpected %s on %s", type(exc).__name__, name or "route")
            response = error_response("unexpected_error", "Internal server error", 500)
        if fault is None:
            return response
        if fault.wrong_hmac and "hmac" in response.headers:
            response.headers["hmac"] = wrong_hmac(bytes(response.body))
        if fault.malformed:
            return malformed(response)
        if fault.drop:
            return DroppedResponse(response)
        if fault.trickle_ms:
            return TrickledResponse(response, fault.trickle_ms / 1000)
        return response

    return run


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    return error_response(code, str(exc.detail), exc.status_code)


def create_simulator_app(
    settings: SimulatorSettings | None = None, *, clock: Clock | None = None
) -> Starlette:
    """Build a simulator app with its own state. Seeded data is built on first use."""
    ctx = SimulatorContext.create(settings or SimulatorSettings(), clock or SystemClock())

    def route(
        path: str, name: str | None, handler: Handler, methods: list[str], route_name: str
    ) -> Route:
        return Route(path, _endpoint(ctx, name, handler), methods=methods, name=route_name)

    async def token_v1(c: SimulatorContext, r: Request) -> Response:
        return await tokens.token(c, r, with_id_token=False)

    async def token_v2(c: SimulatorContext, r: Request) -> Response:
        return await tokens.token(c, r, with_id_token=True)

    async def eaadhaar_v3(c: SimulatorContext, r: Request) -> Response:
        return await resources.eaadhaar(c, r, root="Certificate")

    async def eaadhaar_v2(c: SimulatorContext, r: Request) -> Response:
        return await resources.eaadhaar(c, r, root="KycRes")

    base = "/public/oauth2"
    get, post = ["GET"], ["POST"]
    user = resources.user_details
    drive = uploaded.files_uploaded
    routes = [
        route(f"{base}/1/authorize", "authorize", oauth.authorize, get, "sim_authorize"),
        route(f"{base}/1/journey", None, journey.journey_step, post, "sim_journey"),
        route(f"{base}/1/token", "token", token_v1, post, "sim_token_v1"),
        route(f"{base}/2/token", "token", token_v2, post, "sim_token_v2"),
        route(f"{base}/1/revoke", "revoke", tokens.revoke, post, "sim_revoke"),
        route(f"{base}/1/user", "user", user, get, "sim_user"),
        route(f"{base}/2/user", "user", user, get, "sim_user_v2"),
        route(f"{base}/3/user", "user", user, get, "sim_user_v3"),
        route(f"{base}/1/files/issued", "files_issued", resources.files_issued, get, "sim_v1"),
        route(f"{base}/2/files/issued", "files_issued", resources.files_issued, get, "sim_v2"),
        # docs/reference/digilocker-partner-api.md §7: the root is `/1/files/`; no slash too.
        route(f"{base}/1/files/", "files_uploaded", drive, get, "sim_files_root"),
        route(f"{base}/1/files", "files_uploaded", drive, get, "sim_files_root_bare"),
        route(f"{base}/1/files/{{id}}", "files_uploaded", drive, get, "sim_files_folder"),
        route(f"{base}/1/file/upload", "upload", uploaded.upload, post, "sim_upload"),
        route(f"{base}/1/file", "file", resources.file_by_uri, get, "sim_file_none"),
        route(f"{base}/1/file/{{uri:path}}", "file", resources.file_by_uri, get, "sim_file"),
        # Before /1/xml/{uri}: `eaadhaar` is no issued document's URI.
        route(f"{base}/1/xml/eaadhaar", "eaadhaar", eaadhaar_v2, get, "sim_eaadhaar_v1"),
        route(f"{base}/1/xml", "xml", resources.xml_by_uri, get, "sim_xml_none"),
        route(f"{base}/1/xml/{{uri:path}}", "xml", resources.xml_by_uri, get, "sim_xml"),
        route(f"{base}/3/xml/eaadhaar", "eaadhaar", eaadhaar_v3, get, "sim_eaadhaar_v3"),
        route(f"{base}/2/xml/eaadhaar", "eaadhaar", eaadhaar_v2, get, "sim_eaadhaar_v2"),
        route(f"{base}/1/pull/issuers", "pull_issuers", pull.pull_issuers, post, "sim_issuers"),
        route(f"{base}/1/pull/doctype", "pull_doctype", pull.pull_doctypes, post, "sim_doctypes"),
        route(
            f"{base}/1/pull/parameters", "pull_parameters", pull.pull_parameters, post, "sim_params"
        ),
        route(f"{base}/1/pull/pulldocument", "pull_document", pull.pull_document, post, "sim_pull"),
        route(
            "/public/account/2/verify", "account_verify", accounts.verify_account, post, "sim_av"
        ),
        route("/public/statistics/1/counts", "statistics", accounts.statistics, post, "sim_stats"),
        route("/_sim/users", None, admin.users, get, "sim_users"),
        route("/_sim/signer.pem", None, admin.signer_pem, get, "sim_signer"),
        route("/_sim/users/{who}/offline-ekyc", None, admin.offline_ekyc, get, "sim_offline_ekyc"),
        route("/_sim/admin/faults", None, admin.faults, ["GET", "PUT", "DELETE"], "sim_faults"),
        route("/_sim/admin/profile", None, admin.profile, ["GET", "PUT"], "sim_profile"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.simulator = ctx
    return app
