"""`POST /api/aadhaar/offline`: UIDAI's offline paperless e-KYC, uploaded by the caller, the
fallback when DigiLocker is down (docs/document-data.md §6).

The ZIP is opened with the share code (aadhaar/offline_zip.py), the XML's signature verified
against the pinned UIDAI signers (aadhaar/verify.py, variant B), its age checked against UIDAI's
own timestamp, and the mobile and email the user declares checked against the hashes in it
(aadhaar/offline.py). Only then is anything stored: the signed XML, encrypted, behind
`xml.fileUrl` for the product instance's request lifetime. The answer is the OKYC JSON of the
fetch-Aadhaar call. No refusal stores anything; the share code is echoed, never kept or logged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from digilocker_gateway.aadhaar.extras import aadhaar_extras, aadhaar_match
from digilocker_gateway.aadhaar.offline import verify_offline_contact
from digilocker_gateway.aadhaar.offline_zip import open_offline_zip
from digilocker_gateway.aadhaar.okyc import AadhaarData, okyc_json, read_offline
from digilocker_gateway.aadhaar.verify import (
    AadhaarXmlError,
    SignatureInvalid,
    TamperedXml,
    TrustedSigners,
    verify_aadhaar_xml,
)
from digilocker_gateway.db.models import OfflineEkycFile
from digilocker_gateway.errors import (
    OfflineEkycExpired,
    OfflineEkycInvalid,
    OfflineEkycSignatureInvalid,
    OfflineEkycTampered,
)
from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.kit.timefmt import IST, to_ist_iso
from digilocker_gateway.requests.files import CONTENT_TYPES, signed_url
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant

logger = logging.getLogger("digilocker_gateway.aadhaar")

__all__ = ["OfflineUpload", "upload_offline_ekyc"]

# UIDAI's clock and ours may disagree a little; a file from further in the future is refused.
FUTURE_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, repr=False)
class OfflineUpload:
    """What the caller sent, read by the endpoint. No `repr`: it holds personal data."""

    archive: bytes
    share_code: str
    mobile: str | None = None
    email: str | None = None
    expected: ExpectedIdentity | None = None


def _mobile(value: str | None) -> str | None:
    """The ten digits UIDAI hashes, from `+91 50000 00001` or `050000-00001` alike."""
    if value is None:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[-10:] if len(digits) >= 10 else (digits or None)


def _check_age(data: AadhaarData, now: datetime, max_age: timedelta) -> None:
    generated = datetime.fromisoformat(data.generated_at)
    if generated > now + FUTURE_SKEW:
        raise OfflineEkycInvalid("The offline e-KYC says it was made in the future.")
    if now - generated > max_age:
        raise OfflineEkycExpired()


def _verified_data(xml: bytes, signers: TrustedSigners) -> AadhaarData:
    try:
        root = verify_aadhaar_xml(xml, signers, variant="offline").root
    except TamperedXml:
        raise OfflineEkycTampered() from None
    except SignatureInvalid as exc:
        logger.info("offline e-KYC signature refused: %s", type(exc).__name__)
        raise OfflineEkycSignatureInvalid() from None
    except AadhaarXmlError:
        raise OfflineEkycInvalid("The ZIP's XML is not a UIDAI offline e-KYC.") from None
    try:
        return read_offline(root)
    except AadhaarXmlError:
        raise OfflineEkycInvalid("The ZIP's XML lacks what an offline e-KYC holds.") from None


async def upload_offline_ekyc(
    runtime: Runtime, tenant: Tenant, upload: OfflineUpload
) -> dict[str, Any]:
    settings = runtime.settings
    xml = open_offline_zip(
        upload.archive, upload.share_code, max_xml_bytes=settings.aadhaar_offline_max_xml_bytes
    )
    data = _verified_data(xml, await runtime.offline_signers.get())
    now = runtime.clock.now()
    _check_age(data, now, timedelta(days=settings.aadhaar_offline_max_age_days))
    email_ok, phone_ok = verify_offline_contact(
        data, share_code=upload.share_code, email=upload.email, mobile=_mobile(upload.mobile)
    )
    extensions: dict[str, Any] = {"aadhaarExtras": aadhaar_extras(data, now.astimezone(IST).date())}
    if upload.expected is not None and not upload.expected.is_empty():
        extensions["match"] = aadhaar_match(
            upload.expected, data, refuse_number_mismatch=tenant.refuse_number_mismatch
        )

    file_id = str(uuid.uuid4())
    blob_key = f"offline-ekyc/{tenant.product_instance_id}/{uuid.uuid4().hex}"
    kept_until = now + timedelta(seconds=tenant.request_lifetime_seconds)
    link_until = min(now + timedelta(seconds=settings.file_url_lifetime_seconds), kept_until)

    async def single_chunk() -> AsyncIterator[bytes]:
        yield xml

    await runtime.blobs.put(blob_key, single_chunk(), content_type=CONTENT_TYPES["xml"])
    try:
        async with runtime.transaction() as session:
            session.add(
                OfflineEkycFile(
                    id=file_id,
                    product_instance_id=tenant.product_instance_id,
                    blob_key=blob_key,
                    content_type=CONTENT_TYPES["xml"],
                    size=len(xml),
                    created_at=now,
                    valid_upto=kept_until,
                )
            )
    except BaseException:
        await runtime.blobs.delete(blob_key)
        raise
    url = await signed_url(
        runtime, blob_key, link_until, "offline-aadhaar.xml", content_type=CONTENT_TYPES["xml"]
    )
    aadhaar = okyc_json(
        data,
        signature_verified=True,
        xml_file_url=url,
        xml_valid_until=to_ist_iso(link_until),
        email_verified=email_ok,
        phone_verified=phone_ok,
        share_code=upload.share_code,
    )
    return {"aadhaar": aadhaar, "id": file_id, "status": "complete", **extensions}
