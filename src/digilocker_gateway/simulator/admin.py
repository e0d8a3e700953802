"""The simulator's own endpoints under `/_sim`: seeded users, the signer certificate, a user's
offline e-KYC ZIP, and the admin API that changes faults and the status profile at run time
(docs/simulator.md)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.errors import SimError
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.offline_ekyc import SHARE_CODE, render_offline_ekyc_zip
from digilocker_gateway.simulator.settings import EndpointFaults, StatusProfile, check_fault_names

_FAULTS = TypeAdapter(dict[str, EndpointFaults | list[EndpointFaults]])
_PROFILE = TypeAdapter(StatusProfile)


def _check_admin(ctx: SimulatorContext, request: Request) -> None:
    expected = ctx.settings.admin_token
    if expected is None:
        return
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        value.strip().encode(), expected.encode()
    ):
        raise SimError("invalid_token", "The admin token is missing or wrong", 401)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise SimError("invalid_request", "The body must be JSON", 400) from None


def _user_entry(user: SimUser) -> dict[str, Any]:
    return {
        "identifier": user.aadhaar if user.aadhaar_linked else user.mobile,
        "aadhaar": user.aadhaar,
        "mobile": user.mobile,
        "otp": user.otp,
        "pin": user.pin,
        "scenario": user.scenario,
        "name": user.name,
        "digilockerid": user.digilockerid,
        "aadhaarLinked": user.aadhaar_linked,
        "eaadhaar": user.eaadhaar_flag,
        "hasAccount": user.has_account,
        "documents": [
            {
                "docType": document.doctype,
                "orgId": document.orgid,
                "issuerId": document.issuerid,
                "issuer": document.issuer_name,
                "name": document.name,
                **({"uri": document.uri} if document.issued else {}),
                "formats": list(document.formats),
                "parameters": dict(document.parameters),
                "issued": document.issued,
                "pullOutcome": document.pull_outcome,
            }
            for document in user.documents
        ],
    }


async def users(ctx: SimulatorContext, _request: Request) -> Response:
    """GET /_sim/users: who can sign in, with which OTP and PIN, holding which documents."""
    return JSONResponse([_user_entry(user) for user in ctx.state.users])


async def signer_pem(ctx: SimulatorContext, _request: Request) -> Response:
    """GET /_sim/signer.pem: the certificate to pin when verifying simulator XML signatures."""
    return Response(ctx.pki.signer_cert_pem, media_type="application/x-pem-file")


async def offline_ekyc(ctx: SimulatorContext, request: Request) -> Response:
    """GET /_sim/users/{who}/offline-ekyc?shareCode=NNNN: the user's offline e-KYC ZIP, made
    now (the simulator's clock) and encrypted with the share code. `who` is the user's Aadhaar
    number, mobile number or scenario."""
    who = str(request.path_params["who"])
    user = next(
        (u for u in ctx.state.users if who in (u.aadhaar, u.mobile, u.scenario)),
        None,
    )
    if user is None:
        raise SimError("not_found", "No such test user", 404)
    share_code = request.query_params.get("shareCode", "")
    if not SHARE_CODE.fullmatch(share_code):
        raise SimError("invalid_request", "shareCode must be four digits", 400)
    filename, body = render_offline_ekyc_zip(user, ctx.pki, ctx.clock.now(), share_code)
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def faults(ctx: SimulatorContext, request: Request) -> Response:
    """GET / PUT / DELETE /_sim/admin/faults: PUT replaces the whole set (and resets the
    rate counters); DELETE clears it."""
    _check_admin(ctx, request)
    if request.method == "PUT":
        try:
            ctx.faults.replace(
                check_fault_names(_FAULTS.validate_python(await _json_body(request)))
            )
        except (ValidationError, ValueError) as exc:
            raise SimError("invalid_request", _describe(exc), 400) from None
    elif request.method == "DELETE":
        ctx.faults.clear()
    return JSONResponse(ctx.faults.snapshot())


async def profile(ctx: SimulatorContext, request: Request) -> Response:
    """GET / PUT /_sim/admin/profile: `{"status_profile": "spec" | "v2.4"}`."""
    _check_admin(ctx, request)
    if request.method == "PUT":
        body = await _json_body(request)
        try:
            value = body.get("status_profile") if isinstance(body, dict) else None
            ctx.status_profile = _PROFILE.validate_python(value)
        except ValidationError:
            raise SimError(
                "invalid_request", 'status_profile must be "spec" or "v2.4"', 400
            ) from None
    return JSONResponse({"status_profile": ctx.status_profile})


def _describe(exc: ValidationError | ValueError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return str(exc)
