"""The pull flow: meta APIs (issuers, doctypes, search parameters;
docs/reference/digilocker-partner-api.md §11) signed with `clientid` + `ts` + a SHA-256 `hmac`, and
pulling a document into the issued list (docs/reference/digilocker-partner-api.md §12).

Chosen where DigiLocker is undocumented (docs/simulator.md): `consent` other than `Y` answers
400 `consent_required` under both status profiles.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.errors import SimError, insufficient_scope, pull_error
from digilocker_gateway.simulator.model import DocType, Issuer, SimDocument
from digilocker_gateway.simulator.oauth import form_text
from digilocker_gateway.simulator.resources import bearer_grant
from digilocker_gateway.simulator.settings import HashEncoding

MetaEndpoint = Literal["issuers", "doctype", "parameters", "account", "statistics"]
_HASHED_FIELDS: dict[MetaEndpoint, frozenset[str]] = {
    "issuers": frozenset({"client_secret", "clientid", "ts"}),
    # docs/reference/digilocker-partner-api.md §18: the spec hashes secret, clientid and ts for
    # the account and statistics calls too; no source puts `uid` or `mobile` in the hash.
    "account": frozenset({"client_secret", "clientid", "ts"}),
    "statistics": frozenset({"client_secret", "clientid", "ts"}),
    "doctype": frozenset({"client_secret", "clientid", "orgid", "ts"}),
    "parameters": frozenset({"client_secret", "clientid", "orgid", "doctype", "ts"}),
}


def meta_hash(order: Sequence[str], values: Mapping[str, str], encoding: HashEncoding) -> str:
    """Plain SHA-256 (not a keyed HMAC, docs/reference/digilocker-partner-api.md §11) of the values
    concatenated in `order`; names without a value are skipped. Lower-case hex or standard
    base64."""
    message = "".join(values[name] for name in order if name in values)
    digest = hashlib.sha256(message.encode("utf-8")).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


def _invalid_parameter(description: str) -> SimError:
    return SimError("invalid_parameter", description, 400)


def check_signed_form(
    ctx: SimulatorContext, form: FormData, endpoint: MetaEndpoint
) -> dict[str, str]:
    """Validate clientid, ts, hmac (then the endpoint's own fields are checked by the caller)."""
    settings = ctx.settings
    clientid = form_text(form, "clientid") or ""
    app = ctx.state.apps.get(clientid)
    if app is None:
        raise SimError("invalid_client_id", "The clientid parameter is invalid", 401)
    ts = form_text(form, "ts")
    if ts is None or not ts.isdigit():
        raise _invalid_parameter("The timestamp (ts) is missing or is not UNIX seconds")
    age = ctx.clock.now() - datetime.fromtimestamp(int(ts), UTC)
    if age.total_seconds() > settings.meta_ts_max_age_seconds:
        raise _invalid_parameter("The timestamp (ts) is too old")
    if -age.total_seconds() > settings.meta_ts_future_skew_seconds:
        raise _invalid_parameter("The timestamp (ts) is in the future")
    values = {"client_secret": app.client_secret, "clientid": clientid, "ts": ts}
    for name in ("orgid", "doctype"):
        if name in _HASHED_FIELDS[endpoint]:
            value = form_text(form, name)
            if value is None:
                raise _invalid_parameter(f"The {name} parameter is missing")
            values[name] = value
    supplied = form_text(form, "hmac") or ""
    expected = meta_hash(settings.meta_hash_fields, values, settings.meta_hash_encoding)
    if settings.meta_hash_encoding == "hex":
        supplied = supplied.lower()
    if not secrets.compare_digest(supplied.encode(), expected.encode()):
        raise _invalid_parameter("The HMAC (hmac) is invalid")
    return values


def _issuer(ctx: SimulatorContext, orgid: str) -> Issuer:
    issuer = ctx.catalogue.issuer(orgid)
    if issuer is None:
        raise _invalid_parameter(f"The orgid {orgid} is invalid")
    return issuer


def _doctype(ctx: SimulatorContext, orgid: str, doctype: str) -> DocType:
    found = ctx.catalogue.doctype(orgid, doctype)
    if found is None:
        raise _invalid_parameter(f"The doctype {doctype} is invalid for orgid {orgid}")
    return found


async def pull_issuers(ctx: SimulatorContext, request: Request) -> Response:
    check_signed_form(ctx, await request.form(), "issuers")
    return Response(ctx.issuers_body(), media_type="application/json")


async def pull_doctypes(ctx: SimulatorContext, request: Request) -> Response:
    values = check_signed_form(ctx, await request.form(), "doctype")
    issuer = _issuer(ctx, values["orgid"])
    documents = [{"doctype": d.doctype, "description": d.description} for d in issuer.doctypes]
    return JSONResponse({"documents": documents})


async def pull_parameters(ctx: SimulatorContext, request: Request) -> Response:
    values = check_signed_form(ctx, await request.form(), "parameters")
    _issuer(ctx, values["orgid"])
    doctype = _doctype(ctx, values["orgid"], values["doctype"])
    parameters = [
        {
            "label": parameter.label,
            "paramname": parameter.paramname,
            "example": parameter.example,
            "valuelist": ",".join(parameter.valuelist) if parameter.valuelist else None,
        }
        for parameter in doctype.parameters
    ]
    return JSONResponse({"parameters": parameters})


def _normalised(value: str | None) -> str:
    return (value or "").strip().casefold()


def _match(document: SimDocument, form: FormData) -> Literal["exact", "partial", "none"]:
    expected = document.parameters
    hits = sum(
        1
        for name, value in expected.items()
        if _normalised(value) == _normalised(form_text(form, name))
    )
    if expected and hits == len(expected):
        return "exact"
    return "partial" if hits else "none"


async def pull_document(ctx: SimulatorContext, request: Request) -> Response:
    """POST /public/oauth2/1/pull/pulldocument: Bearer; statuses per profile
    (docs/reference/digilocker-partner-api.md §12)."""
    grant = bearer_grant(ctx, request)
    profile = ctx.status_profile
    form = await request.form()
    if "files.issueddocs" not in grant.scope:
        raise insufficient_scope("files.issueddocs")
    if form_text(form, "consent") != "Y":
        raise SimError("consent_required", 'The consent parameter must be "Y"', 400)
    doctype = form_text(form, "doctype") or ""
    if (
        ctx.settings.enforce_document_consent
        and doctype
        and doctype not in grant.consented_doctypes
    ):
        # docs/reference/digilocker-partner-api.md §19: a pull of a doc type the user did not
        # consent to share is outside the grant.
        raise insufficient_scope(f"partners.{doctype}")
    orgid = form_text(form, "orgid") or ""
    issuer = ctx.catalogue.issuer(orgid)
    if issuer is None:
        raise pull_error("invalid_orgid", "The orgid is invalid", profile)
    if ctx.catalogue.doctype(orgid, doctype) is None:
        raise pull_error("invalid_doctype", "The doctype is invalid for this issuer", profile)
    user = grant.user
    if not user.aadhaar_linked:
        raise pull_error("aadhaar_not_linked", "Aadhaar is not linked to the account", profile)
    candidates = [d for d in user.documents if d.orgid == orgid and d.doctype == doctype]
    matches = [(document, _match(document, form)) for document in candidates]
    exact = next((document for document, kind in matches if kind == "exact"), None)
    if exact is None:
        if any(kind == "partial" for _, kind in matches):
            raise pull_error(
                "pull_response_pending", "The request is forwarded to the issuer", profile
            )
        raise pull_error("record_not_found", "No record found at the issuer", profile)
    if exact.issued:
        raise pull_error("uri_exists", "The document is already in Issued Documents", profile)
    if exact.pull_outcome == "pending":
        raise pull_error("pull_response_pending", "The request is forwarded to the issuer", profile)
    if exact.pull_outcome == "issuer_down":
        raise pull_error(
            "repository_service_configerror", "The issuer service is not available", profile
        )
    exact.issued = True
    ctx.issued_at[exact.uri] = ctx.clock.now()
    return JSONResponse({"uri": exact.uri})
