"""Bearer resource APIs: user details, issued documents, file and XML by URI, e-Aadhaar
(docs/reference/digilocker-partner-api.md §5, §6, §8, §9, §10, §16).

Each call checks the grant's scope first (docs/reference/digilocker-partner-api.md §19): the
profile needs `userdetails`, the issued list `files.issueddocs`, an uploaded file
`files.uploadeddocs`, and an issued document, its XML and the e-Aadhaar the `partners.<DOCTYPE>`
the user ticked; otherwise 403 `insufficient_scope`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from digilocker_gateway.simulator.certificate_xml import render_certificate_xml
from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.eaadhaar import render_eaadhaar_xml
from digilocker_gateway.simulator.errors import (
    SimError,
    insufficient_scope,
    invalid_token,
    provider_status,
)
from digilocker_gateway.simulator.journey import EAADHAAR_DOCTYPE
from digilocker_gateway.simulator.model import SimDocument
from digilocker_gateway.simulator.pdf import render_pdf
from digilocker_gateway.simulator.state import Grant

MIME_TYPES = {"pdf": "application/pdf", "xml": "application/xml"}


def bearer_grant(ctx: SimulatorContext, request: Request) -> Grant:
    """The live grant behind `Authorization: Bearer`, else 401 invalid_token (also once the
    consent has run out, docs/reference/digilocker-partner-api.md §3 `consent_valid_till`)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise invalid_token()
    grant = ctx.state.grant_for_access_token(value.strip())
    if grant is None:
        access = ctx.state.access_tokens.get(value.strip())
        ended = ctx.state.grants.get(access.grant_id) if access is not None else None
        if ended is not None and ended.consent_valid_till <= ctx.clock.now():
            raise invalid_token("The user's consent for this access token has expired")
        raise invalid_token()
    return grant


def require_scope(grant: Grant, scope: str) -> None:
    if scope not in grant.scope:
        raise insufficient_scope(scope)


def signed_body(ctx: SimulatorContext, grant: Grant, body: bytes, media_type: str) -> Response:
    """The exact bytes with the `hmac` header: base64(HMAC-SHA256(client secret, body))
    (docs/reference/digilocker-partner-api.md §8; docs/reference/aadhaar-xml.md §5)."""
    secret = ctx.state.apps[grant.client_id].client_secret.encode("utf-8")
    mac = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode("ascii")
    return Response(body, media_type=media_type, headers={"hmac": mac})


async def user_details(ctx: SimulatorContext, request: Request) -> Response:
    """GET /public/oauth2/1/user, /2/user and /3/user: one flat profile, as real clients read it
    (docs/reference/digilocker-partner-api.md §5). No source describes /2/ or /3/ (§20), so they
    answer what /1/ answers, which already carries v2.4's `mobile`, `email` and `picture`."""
    grant = bearer_grant(ctx, request)
    require_scope(grant, "userdetails")
    user = grant.user
    return JSONResponse(
        {
            "digilockerid": user.digilockerid,
            "name": user.name,
            "dob": user.dob,
            "gender": user.gender,
            "eaadhaar": user.eaadhaar_flag,
            "reference_key": grant.reference_key,
            "mobile": user.mobile,
            "email": user.email,
            "picture": base64.b64encode(user.photo_jpeg).decode("ascii"),
        }
    )


def issued_at(ctx: SimulatorContext, document: SimDocument) -> datetime:
    """When the document joined the issued list: when it was pulled, else a stable date
    derived from its id (seeded documents)."""
    pulled = ctx.issued_at.get(document.uri)
    if pulled is not None:
        return pulled
    days = int(hashlib.sha256(document.docid.encode()).hexdigest()[:8], 16) % 3650
    return datetime(2014, 1, 1, 10, 0, tzinfo=UTC) + timedelta(days=days)


def _issued_date(ctx: SimulatorContext, document: SimDocument) -> str:
    return issued_at(ctx, document).strftime("%Y-%m-%dT%H:%M:%SZ")


def _issued_item(ctx: SimulatorContext, document: SimDocument) -> dict[str, Any]:
    mimes = [MIME_TYPES[fmt] for fmt in document.formats]
    return {
        "name": document.name,
        "type": "file",
        "size": "",
        "date": _issued_date(ctx, document),
        "parent": "",
        "mime": mimes[0] if ctx.settings.mime_as_string else mimes,
        "uri": document.uri,
        "doctype": document.doctype,
        "description": document.name,
        "issuerid": document.issuerid,
        "issuer": document.issuer_name,
    }


async def files_issued(ctx: SimulatorContext, request: Request) -> Response:
    """GET /public/oauth2/1/files/issued and /2/files/issued: `{items, resource}`
    (docs/reference/digilocker-partner-api.md §6)."""
    grant = bearer_grant(ctx, request)
    require_scope(grant, "files.issueddocs")
    items = [_issued_item(ctx, doc) for doc in grant.user.documents if doc.issued]
    return JSONResponse({"items": items, "resource": "issued"})


def _consented_document(
    ctx: SimulatorContext, grant: Grant, request: Request, kind: Literal["file", "xml"]
) -> SimDocument:
    uri = str(request.path_params.get("uri", "")).strip()
    if not uri:
        raise SimError("uri_missing", "The URI is missing", 400)
    document = ctx.state.document_by_uri(grant.user, uri)
    if document is None:
        raise SimError("invalid_uri", "No file found for the given URI", 404)
    if kind == "xml" and "xml" not in document.formats:
        raise SimError("invalid_uri", "No XML is available for the given URI", 404)
    if ctx.settings.enforce_document_consent and document.doctype not in grant.consented_doctypes:
        raise insufficient_scope(f"partners.{document.doctype}")
    if document.pull_outcome == "issuer_down":
        raise SimError(
            "repository_service_unresponsive",
            "Internal server error",
            provider_status(ctx.status_profile),
        )
    return document


async def file_by_uri(ctx: SimulatorContext, request: Request) -> Response:
    """GET /public/oauth2/1/file/{uri}: the document itself, issued or uploaded
    (docs/reference/digilocker-partner-api.md §8)."""
    grant = bearer_grant(ctx, request)
    uri = str(request.path_params.get("uri", "")).strip()
    uploaded = ctx.state.drive_for(grant.user).file_by_uri(uri) if uri else None
    if uploaded is not None:
        require_scope(grant, "files.uploadeddocs")
        return signed_body(ctx, grant, uploaded.body, uploaded.mime)
    document = _consented_document(ctx, grant, request, "file")
    if "pdf" in document.formats:
        return signed_body(ctx, grant, render_pdf(grant.user, document), MIME_TYPES["pdf"])
    body = render_certificate_xml(grant.user, document, ctx.pki)
    return signed_body(ctx, grant, body, MIME_TYPES["xml"])


async def xml_by_uri(ctx: SimulatorContext, request: Request) -> Response:
    """GET /public/oauth2/1/xml/{uri}: the signed certificate XML
    (docs/reference/digilocker-partner-api.md §9)."""
    grant = bearer_grant(ctx, request)
    document = _consented_document(ctx, grant, request, "xml")
    body = render_certificate_xml(grant.user, document, ctx.pki)
    return signed_body(ctx, grant, body, MIME_TYPES["xml"])


async def eaadhaar(
    ctx: SimulatorContext, request: Request, *, root: Literal["Certificate", "KycRes"]
) -> Response:
    """GET /public/oauth2/3/xml/eaadhaar (a `Certificate`), and /2/ and /1/ (a bare `KycRes`,
    as the spec models it, docs/reference/aadhaar-xml.md §1.1; no source describes /1/, which
    answers like the spec's /2/)."""
    grant = bearer_grant(ctx, request)
    user = grant.user
    if not user.aadhaar_linked:
        raise SimError("aadhaar_not_linked", "Aadhaar is not linked to the account", 404)
    if not user.eaadhaar_available:
        raise SimError("aadhaar_not_available", "Aadhaar data is not available; redo the eKYC", 404)
    if ctx.settings.enforce_document_consent and EAADHAAR_DOCTYPE not in grant.consented_doctypes:
        raise insufficient_scope(f"partners.{EAADHAAR_DOCTYPE}")
    body = render_eaadhaar_xml(user, ctx.pki, ctx.clock.now(), root=root)
    return signed_body(ctx, grant, body, MIME_TYPES["xml"])
