"""Create, look up, start the journey of, complete the callback of, and revoke DigiLocker
requests. Services only flush; the caller owns the transaction (docs/architecture.md §3)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.config import Settings
from digilocker_gateway.db.models import CatalogueEntry, RequestRecord
from digilocker_gateway.errors import (
    InvalidPayload,
    InvalidRedirectUrl,
    RequestNotFound,
    TokenRevoked,
    UserNotAuthenticated,
)
from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.kit.timefmt import to_ist_iso
from digilocker_gateway.requests.expected import seal_expected
from digilocker_gateway.requests.options import hint_mobile, resolve_options
from digilocker_gateway.requests.schemas import DigilockerRequestCreate, redirect_url_problem
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.storage.sealed import (
    DIGILOCKER_ID,
    EMAIL,
    HINT,
    PHONE_NUMBER,
    SealedField,
    SealedValues,
)
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.protocol import consented_doctypes
from digilocker_gateway.webhooks import events


def state_digest(state: str) -> str:
    """`state` is a bearer secret while the user is at DigiLocker: store only its hash."""
    return hashlib.sha256(state.encode()).hexdigest()


async def create_request(
    session: AsyncSession,
    *,
    tenant: Tenant,
    body: DigilockerRequestCreate,
    clock: Clock,
    sealed: SealedValues,
    settings: Settings,
) -> RequestRecord:
    problem = redirect_url_problem(body.redirectUrl, tenant.redirect_allowed_hosts)
    if problem is not None:
        raise InvalidRedirectUrl(problem)
    now = clock.now()
    resolved = resolve_options(
        body,
        tenant,
        max_request_lifetime_seconds=tenant.max_request_lifetime_seconds
        or settings.max_request_lifetime_seconds,
        max_consent_validity_seconds=tenant.max_consent_validity_seconds
        or settings.max_consent_validity_seconds,
        now=now,
    )
    if body.docTypes:
        await _refuse_unknown_doc_types(session, body.docTypes)
    request_id = str(uuid.uuid4())
    mobile = hint_mobile(resolved.hint)
    row = RequestRecord(
        id=request_id,
        product_instance_id=tenant.product_instance_id,
        status=RequestStatus.UNAUTHENTICATED,
        redirect_url=body.redirectUrl,
        doc_types=",".join(resolved.doc_types),
        created_at=now,
        valid_upto=now + timedelta(seconds=resolved.lifetime_seconds),
        scope="",
        expected_enc=seal_expected(sealed, request_id, body.expected),
        journey_options=resolved.options.to_json(),
        # Only a mobile number is of use later (a masked Aadhaar prefills nothing), sealed.
        hint_enc=sealed.seal(HINT, request_id, mobile) if mobile else None,
    )
    session.add(row)
    await session.flush()
    await events.emit(
        session,
        product_instance_id=tenant.product_instance_id,
        request_id=request_id,
        event_type=events.REQUEST_CREATED,
        data={
            "status": row.status.value,
            "docTypes": [doc for doc in row.doc_types.split(",") if doc],
            "validUpto": to_ist_iso(row.valid_upto),
        },
        now=now,
    )
    return row


# Aadhaar is no pull document, so the catalogue never lists it, yet DigiLocker offers it on the
# consent page (docs/reference/digilocker-partner-api.md §3).
ALWAYS_KNOWN_DOC_TYPES = frozenset({"ADHAR"})


async def _refuse_unknown_doc_types(session: AsyncSession, doc_types: list[str]) -> None:
    """400 naming the doc types the stored catalogue does not list. Without a stored catalogue
    nothing can be judged, and the doc types' form alone was checked."""
    if (await session.execute(select(CatalogueEntry.doc_type).limit(1))).first() is None:
        return
    asked = set(doc_types) - ALWAYS_KNOWN_DOC_TYPES
    known = set(
        (
            await session.execute(
                select(CatalogueEntry.doc_type).where(CatalogueEntry.doc_type.in_(asked))
            )
        ).scalars()
    )
    unknown = [doc_type for doc_type in doc_types if doc_type in asked - known]
    if unknown:
        raise InvalidPayload(f"docTypes: unknown doc type(s) {', '.join(unknown)}")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# Built once: a statement object keeps its cache key, which SQLAlchemy would otherwise work out
# again at every call (a large share of a small query's CPU).
_REQUEST = select(RequestRecord).where(
    RequestRecord.id == bindparam("request_id"),
    RequestRecord.product_instance_id == bindparam("product_instance_id"),
)
_REQUEST_FOR_UPDATE = _REQUEST.with_for_update()


async def get_request(
    session: AsyncSession,
    *,
    tenant: Tenant,
    request_id: str,
    now: datetime,
    for_update: bool = False,
) -> RequestRecord:
    """The caller's own, unexpired request, else 404: another tenant's request, an expired one
    and one that never existed look the same (docs/reference/setu-api.md §1, §7)."""
    if not is_uuid(request_id):
        raise RequestNotFound()
    query = _REQUEST_FOR_UPDATE if for_update else _REQUEST
    parameters = {"request_id": request_id, "product_instance_id": tenant.product_instance_id}
    row = (await session.execute(query, parameters)).scalar_one_or_none()
    if row is None or row.valid_upto <= now:
        raise RequestNotFound()
    return row


def require_authenticated(row: RequestRecord) -> None:
    if row.status == RequestStatus.REVOKED:
        raise TokenRevoked()
    if row.status != RequestStatus.AUTHENTICATED or row.access_token_enc is None:
        raise UserNotAuthenticated()


def user_details(row: RequestRecord, sealed: SealedValues) -> dict[str, str]:
    """Setu's `digilockerUserDetails`: `{}` until authenticated, then what DigiLocker gave."""
    if row.status == RequestStatus.UNAUTHENTICATED:
        return {}

    def opened(field: SealedField, value: str | None) -> str:
        return sealed.open(field, row.id, value) if value is not None else ""

    return {
        "digilockerId": opened(DIGILOCKER_ID, row.digilocker_id_enc),
        "email": opened(EMAIL, row.email_enc),
        "phoneNumber": opened(PHONE_NUMBER, row.phone_number_enc),
    }


def consent_of(row: RequestRecord) -> dict[str, Any]:
    """Status's consent extensions: what the user consented to share and until when, once the
    request is authenticated (docs/journey-options.md §2)."""
    if row.status == RequestStatus.UNAUTHENTICATED:
        return {"consentedDocTypes": None, "consentValidUntil": None}
    return {
        "consentedDocTypes": list(consented_doctypes(row.scope)),
        "consentValidUntil": to_ist_iso(row.consent_valid_until)
        if row.consent_valid_until is not None
        else None,
    }


def sealed_user_details(
    request_id: str,
    sealed: SealedValues,
    *,
    digilocker_id: str | None,
    email: str | None,
    phone_number: str | None,
) -> dict[str, str]:
    """The request columns that hold the details DigiLocker gave, sealed; a value not given is
    left out (the one held stays)."""
    return {
        f"{field.name}_enc": sealed.seal(field, request_id, value)
        for field, value in (
            (DIGILOCKER_ID, digilocker_id),
            (EMAIL, email),
            (PHONE_NUMBER, phone_number),
        )
        if value
    }


def keep_user_details(
    row: RequestRecord,
    sealed: SealedValues,
    *,
    digilocker_id: str | None,
    email: str | None,
    phone_number: str | None,
) -> None:
    """Seal the details DigiLocker gave onto the row; a value not given keeps the one held."""
    columns = sealed_user_details(
        row.id, sealed, digilocker_id=digilocker_id, email=email, phone_number=phone_number
    )
    for column, value in columns.items():
        setattr(row, column, value)
