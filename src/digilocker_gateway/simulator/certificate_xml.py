"""Issuer-style certificate XML for `/1/xml/{uri}` (docs/reference/digilocker-partner-api.md §9).

DigiLocker serves issuers' XML certificates in one common shape
(docs/reference/digilocker-partner-api.md §21): a `Certificate` root naming the document and its
dates, `IssuedBy/Organization`, `IssuedTo/Person` with an `Address` and, for documents that show
one, a `Photo`, and a document-specific `CertificateData` part, followed by an enveloped XMLDSig
`Signature`. The simulator signs it with its PKI exactly like the e-Aadhaar
(docs/reference/aadhaar-xml.md §1, §4.2), so the same verifier code works on both. Only documents
whose formats include "xml" have one.
"""

from __future__ import annotations

import base64
import hashlib
import re

from lxml import etree

from digilocker_gateway.simulator.eaadhaar import masked_uid
from digilocker_gateway.simulator.model import SimDocument, SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI

# Documents that carry the holder's photograph (docs/reference/digilocker-partner-api.md §21).
_WITH_PHOTO = frozenset({"PANCR", "DRVLC"})

# Issuer organisation type codes of the DigiLocker issuer XML schema: CG central government,
# SG state government, OT other (used for boards, universities and companies here).
_ORGANISATION_TYPES = {"Central Government": "CG", "State Government": "SG", "Transport": "SG"}


class NoXmlFormatError(ValueError):
    """The document is PDF-only; DigiLocker answers 404 for its XML
    (docs/reference/digilocker-partner-api.md §16)."""


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", text.replace("'", ""))


def _camel(label: str) -> str:
    words = _words(label)
    name = words[0].lower() + "".join(word[:1].upper() + word[1:] for word in words[1:])
    return name if name[:1].isalpha() else f"f{name}"


def _pascal(label: str) -> str:
    name = "".join(word[:1].upper() + word[1:] for word in _words(label))
    return name if name[:1].isalpha() else f"D{name}"


def _dob(ddmmyyyy: str) -> str:
    return f"{ddmmyyyy[:2]}-{ddmmyyyy[2:4]}-{ddmmyyyy[4:]}"


def _issue_date(document: SimDocument) -> str:
    stated = document.fields.get("Date of issue")
    if stated:
        return stated
    # No issue date among the fields: derive a stable one from the document id.
    seed = int.from_bytes(hashlib.sha256(document.uri.encode()).digest()[:4], "big")
    return f"{1 + seed % 28:02d}-{1 + seed // 28 % 12:02d}-{2010 + seed // 336 % 15}"


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    # Empty attributes are left out, as DigiLocker's own XML does
    # (docs/reference/aadhaar-xml.md §1).
    return etree.SubElement(parent, tag, {key: value for key, value in attributes.items() if value})


def render_certificate_xml(user: SimUser, document: SimDocument, pki: SimulatorPKI) -> bytes:
    """The document's signed certificate XML; raises NoXmlFormatError for PDF-only documents."""
    if "xml" not in document.formats:
        raise NoXmlFormatError(f"{document.doctype} documents have no XML format")
    issued_on = _issue_date(document)
    valid_until = document.fields.get("Valid till", "")
    root = etree.Element("Certificate")
    for key, value in (
        ("language", "99"),
        ("name", document.name),
        ("type", document.doctype),
        ("number", document.docid),
        ("issueDate", issued_on),
        ("validFromDate", issued_on if valid_until else ""),
        ("expiryDate", valid_until),
        ("status", "A"),
    ):
        if value:
            root.set(key, value)
    issued_by = etree.SubElement(root, "IssuedBy")
    _sub(
        issued_by,
        "Organization",
        name=document.issuer_name,
        code=document.orgid,
        uid=document.issuerid,
        type=_ORGANISATION_TYPES.get(_issuer_category(document), "OT"),
    )
    issued_to = etree.SubElement(root, "IssuedTo")
    address = user.address
    person = _sub(
        issued_to,
        "Person",
        uid=masked_uid(user.aadhaar),
        name=user.name,
        dob=_dob(user.dob),
        gender=user.gender,
        swd=address.co,
    )
    _sub(
        person,
        "Address",
        type="permanent",
        house=address.house,
        line1=address.street,
        landmark=address.lm,
        locality=address.loc,
        vtc=address.vtc,
        district=address.dist,
        pin=address.pc,
        state=address.state,
        country=address.country,
    )
    if document.doctype in _WITH_PHOTO:
        photo = _sub(person, "Photo", format="jpeg")
        photo.text = base64.b64encode(user.photo_jpeg).decode("ascii")
    data = etree.SubElement(root, "CertificateData")
    attributes = {k: v for k, v in document.fields.items() if k not in document.subjects}
    own = _sub(data, _pascal(document.name), **{_camel(k): v for k, v in attributes.items()})
    if document.subjects:
        subjects = etree.SubElement(own, "Subjects")
        for subject in document.subjects:
            _sub(subjects, "Subject", name=subject, marks=document.fields[subject], maxMarks="100")
    return pki.sign_enveloped(root, c14n="exclusive")


def _issuer_category(document: SimDocument) -> str:
    # The catalogue is not passed in; the issuerid prefix tells the government ones apart.
    if document.issuerid.startswith("in.gov.transport."):
        return "Transport"
    if document.issuerid in {"in.gov.pan", "in.gov.cbse"}:
        return "Central Government"
    return "Other"
