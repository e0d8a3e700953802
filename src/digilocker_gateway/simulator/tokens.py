"""Token, refresh and revoke endpoints (docs/reference/digilocker-partner-api.md §4, §13, §16).

`/1/token` answers with the flat profile; `/2/token` adds an `id_token` (HS256 with the client
secret: DigiLocker documents no JWKS, docs/reference/digilocker-partner-api.md §4). A refresh
rotates both tokens and kills the old refresh token; the old access token lives on until it expires.
Revoke answers `{}`. Both read a form or a JSON body (docs/reference/digilocker-partner-api.md §4:
the spec declares JSON, its text and real clients send forms). Once the user's consent has run
out (`consent_valid_till`), neither a code nor a refresh token gets new tokens.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta
from hashlib import sha256
from hmac import new as hmac_new
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.errors import SimError
from digilocker_gateway.simulator.oauth import (
    client_credentials,
    form_text,
    is_pkce_value,
    request_params,
    s256_challenge,
)
from digilocker_gateway.simulator.state import (
    AccessToken,
    Grant,
    PartnerApp,
    RefreshToken,
    new_token,
)


def _invalid_request(description: str) -> SimError:
    return SimError("invalid_request", description, 400)


def _invalid_grant(description: str) -> SimError:
    return SimError("invalid_grant", description, 400)


def _invalid_client(basic: bool) -> SimError:
    headers = {"WWW-Authenticate": 'Basic realm="DigiLocker"'} if basic else None
    return SimError("invalid_client", "Client authentication failed", 401, headers=headers)


def _authenticate(ctx: SimulatorContext, client_id: str, secret: str, basic: bool) -> PartnerApp:
    app = ctx.state.apps.get(client_id)
    if app is None or not secrets.compare_digest(
        secret.encode("utf-8"), app.client_secret.encode("utf-8")
    ):
        raise _invalid_client(basic)
    return app


async def token(ctx: SimulatorContext, request: Request, *, with_id_token: bool) -> Response:
    """POST /public/oauth2/1/token and /2/token (form or JSON body; credentials in the body or
    by HTTP Basic)."""
    form = await request_params(request)
    grant_type = form_text(form, "grant_type")
    if grant_type is None:
        raise _invalid_request("grant_type is missing")
    client_id, secret = client_credentials(request, form)
    basic = request.headers.get("authorization", "").lower().startswith("basic ")
    if client_id is None or secret is None:
        raise _invalid_request("client_id and client_secret are required (form or HTTP Basic)")
    app = _authenticate(ctx, client_id, secret, basic)
    if grant_type == "authorization_code":
        code = form_text(form, "code")
        redirect_uri = form_text(form, "redirect_uri")
        verifier = form_text(form, "code_verifier")
        fields = {"code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
        missing = [name for name, value in fields.items() if value is None]
        if missing:
            raise _invalid_request(f"Missing parameter(s): {', '.join(missing)}")
        grant = _redeem_code(ctx, app, code or "", redirect_uri or "", verifier or "")
    elif grant_type == "refresh_token":
        refresh_value = form_text(form, "refresh_token")
        if refresh_value is None:
            raise _invalid_request("Missing parameter(s): refresh_token")
        grant = _redeem_refresh_token(ctx, app, refresh_value)
    else:
        raise SimError("invalid_grant_type", "The grant type is not supported", 400)
    if grant.consent_valid_till <= ctx.clock.now():
        raise _invalid_grant("The user's consent has expired")
    access, refresh = _issue_tokens(ctx, grant)
    body = token_body(ctx, grant, access, refresh)
    if with_id_token:
        body["id_token"] = id_token(ctx, request, grant, app)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _redeem_code(
    ctx: SimulatorContext, app: PartnerApp, code: str, redirect_uri: str, verifier: str
) -> Grant:
    record = ctx.state.codes.get(code)
    if record is None or record.client_id != app.client_id:
        raise _invalid_grant("The authorization code is invalid")
    if record.used:
        raise _invalid_grant("The authorization code has already been used")
    if record.expires_at <= ctx.clock.now():
        raise _invalid_grant("The authorization code has expired")
    if record.redirect_uri != redirect_uri:
        raise _invalid_grant("The redirect_uri does not match the one used to authorize")
    if not is_pkce_value(verifier) or not secrets.compare_digest(
        s256_challenge(verifier), record.code_challenge
    ):
        raise _invalid_grant("The code_verifier does not match the code_challenge")
    grant = ctx.state.grants.get(record.grant_id)
    if grant is None or grant.revoked:
        raise _invalid_grant("The authorization code is invalid")
    record.used = True
    return grant


def _redeem_refresh_token(ctx: SimulatorContext, app: PartnerApp, value: str) -> Grant:
    record = ctx.state.refresh_tokens.get(value)
    grant = ctx.state.grants.get(record.grant_id) if record is not None else None
    if record is None or record.revoked or grant is None or grant.revoked:
        raise _invalid_grant("The refresh token is invalid")
    if grant.client_id != app.client_id:
        raise _invalid_grant("The refresh token is invalid")
    # docs/reference/digilocker-partner-api.md §4: a refresh issues a new refresh token; the old one
    # must stop working.
    record.revoked = True
    return grant


def _issue_tokens(ctx: SimulatorContext, grant: Grant) -> tuple[AccessToken, RefreshToken]:
    ttl = timedelta(seconds=ctx.settings.access_token_ttl_seconds)
    access = AccessToken(new_token(), grant.grant_id, ctx.clock.now() + ttl)
    refresh = RefreshToken(new_token(), grant.grant_id)
    ctx.state.access_tokens[access.token] = access
    ctx.state.refresh_tokens[refresh.token] = refresh
    return access, refresh


def token_body(
    ctx: SimulatorContext, grant: Grant, access: AccessToken, refresh: RefreshToken
) -> dict[str, Any]:
    user = grant.user
    return {
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": ctx.settings.access_token_ttl_seconds,
        "scope": " ".join(grant.scope),
        "refresh_token": refresh.token,
        "digilockerid": user.digilockerid,
        "name": user.name,
        "dob": user.dob,
        "gender": user.gender,
        "eaadhaar": user.eaadhaar_flag,
        "reference_key": grant.reference_key,
        "consent_valid_till": int(grant.consent_valid_till.timestamp()),
        "mobile": user.mobile,
        "new_account": "Y" if grant.new_account else "N",
        # docs/reference/digilocker-partner-api.md §4: v2.4 echoes authorize's purpose.
        **({"purpose": grant.purpose} if grant.purpose else {}),
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def id_token(ctx: SimulatorContext, request: Request, grant: Grant, app: PartnerApp) -> str:
    """A compact JWS (HS256, key = client secret) carrying the profile as OIDC claims."""
    now = int(ctx.clock.now().timestamp())
    user = grant.user
    claims = {
        "iss": str(request.base_url).rstrip("/"),
        "sub": user.digilockerid,
        "aud": app.client_id,
        "iat": now,
        "exp": now + ctx.settings.access_token_ttl_seconds,
        "name": user.name,
        "dob": user.dob,
        "gender": user.gender,
        "eaadhaar": user.eaadhaar_flag,
        "digilockerid": user.digilockerid,
    }
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac_new(app.client_secret.encode(), signing_input.encode("ascii"), sha256)
    return f"{signing_input}.{_b64url(signature.digest())}"


async def revoke(ctx: SimulatorContext, request: Request) -> Response:
    """POST /public/oauth2/1/revoke: kill the token's whole grant
    (docs/reference/digilocker-partner-api.md §13)."""
    form = await request_params(request)
    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() == "bearer":
        # A public Laravel client authenticates revoke with the user's own token
        # (docs/reference/digilocker-partner-api.md §13).
        known = ctx.state.access_tokens.get(bearer.strip())
        grant = ctx.state.grants.get(known.grant_id) if known is not None else None
        if grant is None:
            raise _invalid_client(basic=False)
        client_id = grant.client_id
    else:
        form_client, secret = client_credentials(request, form)
        if form_client is None or secret is None:
            raise _invalid_client(basic=scheme.lower() == "basic")
        client_id = _authenticate(ctx, form_client, secret, scheme.lower() == "basic").client_id
    value = form_text(form, "token")
    if value is None:
        raise _invalid_request("token is missing")
    kinds = ["access_token", "refresh_token"]
    if form_text(form, "token_type_hint") == "refresh_token":
        kinds.reverse()
    for kind in kinds:
        record = (
            ctx.state.access_tokens.get(value)
            if kind == "access_token"
            else ctx.state.refresh_tokens.get(value)
        )
        if record is None:
            continue
        grant = ctx.state.grants.get(record.grant_id)
        if record.revoked or grant is None or grant.revoked or grant.client_id != client_id:
            break
        ctx.state.revoke_grant(grant.grant_id)
        return JSONResponse({})
    raise SimError("invalid_token", "The token is invalid", 400)
