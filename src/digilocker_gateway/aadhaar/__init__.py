"""e-Aadhaar XML: verify the XML signature against pinned signers, read the signed tree, and
map it to Setu's OKYC-shaped JSON (reference: docs/reference/aadhaar-xml.md)."""

from __future__ import annotations

from digilocker_gateway.aadhaar.offline import (
    hash_matches,
    salted_contact_hash,
    verify_offline_contact,
)
from digilocker_gateway.aadhaar.okyc import (
    AadhaarAddress,
    AadhaarData,
    okyc_json,
    read_digilocker,
    read_offline,
)
from digilocker_gateway.aadhaar.verify import (
    AadhaarXmlError,
    MalformedXml,
    SignatureInvalid,
    SignatureWrapping,
    TamperedXml,
    TrustedSigners,
    UnsafeXml,
    UntrustedCertificate,
    Variant,
    VerifiedXml,
    parse_unverified,
    verify_aadhaar_xml,
)

__all__ = [
    "AadhaarAddress",
    "AadhaarData",
    "AadhaarXmlError",
    "MalformedXml",
    "SignatureInvalid",
    "SignatureWrapping",
    "TamperedXml",
    "TrustedSigners",
    "UnsafeXml",
    "UntrustedCertificate",
    "Variant",
    "VerifiedXml",
    "hash_matches",
    "okyc_json",
    "parse_unverified",
    "read_digilocker",
    "read_offline",
    "salted_contact_hash",
    "verify_aadhaar_xml",
    "verify_offline_contact",
]
