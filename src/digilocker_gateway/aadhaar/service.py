"""Fetch Aadhaar: the e-Aadhaar XML from DigiLocker, verified against pinned signer
certificates, mapped to Setu's OKYC-shaped JSON; the signed XML kept encrypted behind a
signed `xml.fileUrl` for the request's lifetime. The full Aadhaar number and the UID token are
never stored or logged: only the verified tree is read, and only the last four digits kept."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from digilocker_gateway.aadhaar.extras import aadhaar_extras, aadhaar_match
from digilocker_gateway.aadhaar.okyc import okyc_json, read_digilocker
from digilocker_gateway.aadhaar.verify import (
    AadhaarXmlError,
    SignatureInvalid,
    parse_unverified,
    verify_aadhaar_xml,
)
from digilocker_gateway.error_mapping import Call, gateway_error_for
from digilocker_gateway.errors import (
    UnwrapAadhaarFailed,
)
from digilocker_gateway.kit.timefmt import IST, to_ist_iso
from digilocker_gateway.requests.details import fill_pending_details
from digilocker_gateway.requests.expected import open_expected
from digilocker_gateway.requests.files import (
    CONTENT_TYPES,
    blob_key_for,
    file_valid_upto,
    keep_file,
)
from digilocker_gateway.requests.service import get_request
from digilocker_gateway.requests.tokens import after_upstream_failure, live_grant
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.errors import UpstreamError

logger = logging.getLogger("digilocker_gateway.aadhaar")


async def fetch_aadhaar(runtime: Runtime, tenant: Tenant, request_id: str) -> dict[str, Any]:
    now = runtime.clock.now()
    async with runtime.reading() as session:
        request = await get_request(session, tenant=tenant, request_id=request_id, now=now)
    request_valid_upto = request.valid_upto
    details_pending = request.details_pending
    expected = open_expected(runtime.sealed, request)
    grant = await live_grant(runtime, tenant, request_id, request)
    try:
        raw, _content_type = await runtime.upstream(tenant).fetch_eaadhaar(grant.access_token)
    except UpstreamError as exc:
        logger.info("e-Aadhaar fetch failed upstream: %s", type(exc).__name__)
        await after_upstream_failure(runtime, tenant, request_id, exc, grant)
        raise gateway_error_for(exc, Call.AADHAAR) from None

    verified = True
    try:
        root = verify_aadhaar_xml(raw, await runtime.aadhaar_signers.get()).root
    except SignatureInvalid as exc:
        if not tenant.aadhaar_allow_unverified:
            logger.warning("e-Aadhaar signature refused: %s", type(exc).__name__)
            raise UnwrapAadhaarFailed() from None
        verified = False
        try:
            root = parse_unverified(raw)
        except AadhaarXmlError:
            raise UnwrapAadhaarFailed() from None
    except AadhaarXmlError as exc:
        logger.warning("e-Aadhaar XML refused: %s", type(exc).__name__)
        raise UnwrapAadhaarFailed() from None
    try:
        data = read_digilocker(root)
    except AadhaarXmlError:
        raise UnwrapAadhaarFailed() from None
    # Before anything is stored: a refused Aadhaar number keeps nothing.
    extensions: dict[str, Any] = {"aadhaarExtras": aadhaar_extras(data, now.astimezone(IST).date())}
    if expected is not None:
        extensions["match"] = aadhaar_match(
            expected, data, refuse_number_mismatch=tenant.refuse_number_mismatch
        )

    blob_key = blob_key_for(request_id)

    async def single_chunk() -> AsyncIterator[bytes]:
        yield raw

    await runtime.blobs.put(blob_key, single_chunk(), content_type=CONTENT_TYPES["xml"])
    kept = await keep_file(
        runtime,
        tenant,
        request_id=request_id,
        blob_key=blob_key,
        kind="aadhaar_xml",
        content_type=CONTENT_TYPES["xml"],
        size=len(raw),
        doc_type="ADHAR",
        org_id="",
        valid_upto=file_valid_upto(runtime, request_valid_upto),
        filename="aadhaar.xml",
    )
    aadhaar = okyc_json(
        data,
        signature_verified=verified,
        xml_file_url=kept.url,
        xml_valid_until=to_ist_iso(kept.valid_upto),
    )
    if details_pending:
        await fill_pending_details(runtime, tenant, request, grant)
    return {"aadhaar": aadhaar, "id": request_id, "status": "complete", **extensions}
