"""An issued document's XML as typed data (docs/document-data.md §2).

The XML is DigiLocker's certificate format (docs/reference/digilocker-partner-api.md §21). Its
signature is checked against the pinned signers first: when it verifies, every field is read
from the tree signxml rebuilt from the signed bytes (docs/reference/aadhaar-xml.md §4.1,
pitfall 3) and `verified.signature` is true. When it does not (unsigned, an unknown signer,
changed content), the fields are read from a safe parse of the same bytes and
`verified.signature` is false: the caller still gets what the document says, and knows that no
one vouches for it. XML that cannot be parsed at all, or has a DTD, gives the fields the
issued list knows (`source: "issuedList"`). Nothing here raises on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from digilocker_gateway.aadhaar.verify import (
    AadhaarXmlError,
    SignatureInvalid,
    TrustedSigners,
    safe_parse,
    verify_aadhaar_xml,
)
from digilocker_gateway.documents.data.parsers import PARSERS
from digilocker_gateway.documents.data.xmlread import (
    as_date,
    attribute,
    descendants,
    first,
    local_name,
    text_of,
)
from digilocker_gateway.documents.identifiers import document_number
from digilocker_gateway.identity.match import Holder

__all__ = ["DocumentSource", "data_from_xml", "data_without_xml", "holder_of"]

# Setu's twelve address keys (docs/reference/setu-api.md §8) and the certificate attributes each
# is read from, in order of preference (docs/reference/digilocker-partner-api.md §21).
_ADDRESS: dict[str, tuple[str, ...]] = {
    "careOf": ("careOf", "co", "swd"),
    "country": ("country",),
    "district": ("district", "dist"),
    "house": ("house", "houseNumber", "building"),
    "landmark": ("landmark", "lm"),
    "locality": ("locality", "loc", "area"),
    "pin": ("pin", "pincode", "pc", "postalCode"),
    "postOffice": ("postOffice", "po"),
    "state": ("state",),
    "street": ("street",),
    "subDistrict": ("subDistrict", "subdist", "tehsil", "taluk"),
    "vtc": ("vtc", "city", "village", "town"),
}
_GENDERS = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F", "T": "T", "TRANSGENDER": "T"}
_MASKED_UID_TAIL = 4


@dataclass(frozen=True, slots=True)
class DocumentSource:
    """What the gateway knows of a document without its XML: catalogue and issued list."""

    doc_type: str
    org_id: str
    org_name: str
    uri: str


def _tree(raw: bytes, trusted: TrustedSigners) -> tuple[etree._Element | None, bool]:
    """(the tree to read, whether a pinned signer vouches for it)."""
    try:
        return verify_aadhaar_xml(raw, trusted).root, True
    except SignatureInvalid:
        pass
    except AadhaarXmlError:
        # Not a `Certificate` (or not well-formed, or a DTD): still worth a safe look below.
        pass
    try:
        return safe_parse(raw), False
    except AadhaarXmlError:
        return None, False


def _certificate(root: etree._Element) -> etree._Element | None:
    if local_name(root) == "Certificate":
        return root
    return next(descendants(root, "Certificate"), None)


def _address(person: etree._Element | None) -> dict[str, str]:
    addresses = list(descendants(person, "Address"))
    permanent = [a for a in addresses if (attribute(a, "type") or "").lower() == "permanent"]
    chosen = next(iter(permanent or addresses), None)
    found = {key: attribute(chosen, *names) or "" for key, names in _ADDRESS.items()}
    if not found["street"]:
        found["street"] = ", ".join(
            part for part in (attribute(chosen, "line1"), attribute(chosen, "line2")) if part
        )
    if not found["careOf"]:
        found["careOf"] = attribute(person, "swd", "careOf", "co", "relativeName") or ""
    return found


def _gender(value: str | None) -> str | None:
    if value is None:
        return None
    return _GENDERS.get(value.strip().upper(), value)


def _masked_aadhaar(person: etree._Element | None) -> str | None:
    uid = attribute(person, "uid", "aadhaar")
    if uid is None:
        return None
    tail = uid[-_MASKED_UID_TAIL:]
    # Only the last four digits are ever kept (docs/reference/aadhaar-xml.md §4.1, pitfall 9).
    return f"xxxx-xxxx-{tail}" if tail.isdigit() and len(tail) == _MASKED_UID_TAIL else None


def _common(source: DocumentSource, *, from_xml: bool, verified: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "docType": source.doc_type,
        "documentNumber": document_number(source.uri, source.doc_type),
        "name": None,
        "dateOfBirth": None,
        "gender": None,
        "address": dict.fromkeys(_ADDRESS, ""),
        "issuedOn": None,
        "validFrom": None,
        "validUntil": None,
        "status": None,
        "issuer": {"orgId": source.org_id, "name": source.org_name},
        "photo": None,
        "maskedAadhaar": None,
        "verified": {"signature": verified},
        "source": "xml" if from_xml else "issuedList",
    }
    parser = PARSERS.get(source.doc_type)
    if parser is not None:
        data[parser.key] = None
    return data


def data_without_xml(source: DocumentSource) -> dict[str, Any]:
    """The `data` of a document that has no XML: what the issued list and catalogue say."""
    return _common(source, from_xml=False, verified=False)


def data_from_xml(raw: bytes, trusted: TrustedSigners, source: DocumentSource) -> dict[str, Any]:
    """The `data` of a document from its XML; the fields found, never an error."""
    root, verified = _tree(raw, trusted)
    certificate = None if root is None else _certificate(root)
    if certificate is None:
        return _common(source, from_xml=False, verified=False)
    data = _common(source, from_xml=True, verified=verified)
    organisation = next(descendants(first(certificate, "IssuedBy"), "Organization"), None)
    person = next(descendants(first(certificate, "IssuedTo"), "Person"), None)
    data["documentNumber"] = attribute(certificate, "number") or data["documentNumber"]
    data["name"] = attribute(person, "name")
    data["dateOfBirth"] = as_date(attribute(person, "dob", "dateOfBirth"))
    data["gender"] = _gender(attribute(person, "gender"))
    data["address"] = _address(person)
    data["issuedOn"] = as_date(attribute(certificate, "issueDate", "issuedOn", "dateOfIssue"))
    data["validFrom"] = as_date(attribute(certificate, "validFromDate", "validFrom"))
    data["validUntil"] = as_date(
        attribute(certificate, "expiryDate", "validToDate", "validTo", "validUpto", "validTill")
    )
    data["status"] = attribute(certificate, "status")
    data["issuer"] = {
        "orgId": attribute(organisation, "code", "orgId") or source.org_id,
        "name": attribute(organisation, "name") or source.org_name,
    }
    data["photo"] = text_of(next(descendants(person, "Photo"), None))
    data["maskedAadhaar"] = _masked_aadhaar(person)
    parser = PARSERS.get(source.doc_type)
    if parser is not None:
        data[parser.key] = parser.parse(first(certificate, "CertificateData"), certificate)
    return data


def holder_of(data: dict[str, Any]) -> Holder:
    """What a document's `data` says about its holder, for the identity match."""
    masked = data.get("maskedAadhaar")
    return Holder(
        name=data.get("name"),
        date_of_birth=data.get("dateOfBirth"),
        gender=data.get("gender"),
        doc_type=data.get("docType"),
        document_number=data.get("documentNumber"),
        aadhaar_last4=masked[-4:] if isinstance(masked, str) else None,
    )
