"""Read a verified e-Aadhaar tree into `AadhaarData`, and render Setu's OKYC-shaped JSON.

The readers take the tree `verify_aadhaar_xml` returned (or `parse_unverified`'s, when a product
accepts unverified data) and read fixed paths only. The full Aadhaar number and UIDAI's UID
token (`UidData@tkn`) are never copied out: only the last four digits survive
(docs/reference/aadhaar-xml.md §3, "never more than four digits"). The mapping follows the
table of docs/reference/aadhaar-xml.md §3 field by field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from digilocker_gateway.aadhaar.verify import MalformedXml

__all__ = ["AadhaarAddress", "AadhaarData", "okyc_json", "read_digilocker", "read_offline"]

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LAST4 = re.compile(r"[0-9]{4}")
# docs/reference/aadhaar-xml.md §2: referenceId = last 4 digits of the Aadhaar number +
# yyyyMMddHHmmssSSS.
_REFERENCE_ID = re.compile(r"([0-9]{4})([0-9]{17})")

# docs/reference/aadhaar-xml.md §3: the twelve Setu address keys and the Poa attribute each comes
# from. DigiLocker (A) and UIDAI's offline XML (B) differ only in care-of and landmark.
_DIGILOCKER_ADDRESS = {
    "care_of": "co",
    "country": "country",
    "district": "dist",
    "house": "house",
    "landmark": "lm",
    "locality": "loc",
    "pin": "pc",
    "post_office": "po",
    "state": "state",
    "street": "street",
    "sub_district": "subdist",
    "vtc": "vtc",
}
_OFFLINE_ADDRESS = {**_DIGILOCKER_ADDRESS, "care_of": "careof", "landmark": "landmark"}


@dataclass(frozen=True, slots=True, repr=False)
class AadhaarAddress:
    """The twelve address fields; `""` where the XML omits one (docs/reference/aadhaar-xml.md §1:
    empty ones are omitted). No field `repr`: an address is personal data and must not reach a log
    line."""

    care_of: str = ""
    country: str = ""
    district: str = ""
    house: str = ""
    landmark: str = ""
    locality: str = ""
    pin: str = ""
    post_office: str = ""
    state: str = ""
    street: str = ""
    sub_district: str = ""
    vtc: str = ""

    def as_setu(self) -> dict[str, str]:
        """Setu's `address` object: all twelve keys, always present."""
        return {
            "careOf": self.care_of,
            "country": self.country,
            "district": self.district,
            "house": self.house,
            "landmark": self.landmark,
            "locality": self.locality,
            "pin": self.pin,
            "postOffice": self.post_office,
            "state": self.state,
            "street": self.street,
            "subDistrict": self.sub_district,
            "vtc": self.vtc,
        }


@dataclass(frozen=True, slots=True)
class AadhaarData:
    """What the gateway keeps of an e-Aadhaar: never the full number nor the UID token.

    Personal fields are left out of `repr` so that an accidental log line shows none of them.
    """

    name: str = field(repr=False)
    date_of_birth: str = field(repr=False)
    gender: str
    last4: str
    photo: str = field(repr=False)
    generated_at: str
    address: AadhaarAddress = field(repr=False)
    email_hash: str = field(default="", repr=False)
    mobile_hash: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not _LAST4.fullmatch(self.last4):
            raise ValueError("last4 must be exactly four digits")

    @property
    def masked_number(self) -> str:
        return f"xxxx-xxxx-{self.last4}"


def read_digilocker(root: etree._Element) -> AadhaarData:
    """Variant A (`Certificate/CertificateData/KycRes`) or A′ (a bare `KycRes` root),
    docs/reference/aadhaar-xml.md §1, §1.1."""
    if root.tag == "Certificate":
        kyc = _one(_one(root, "CertificateData"), "KycRes")
    elif root.tag == "KycRes":
        kyc = root
    else:
        raise MalformedXml("The XML is not a DigiLocker e-Aadhaar.")
    # docs/reference/aadhaar-xml.md §1: ret="Y" is success; on "N" UIDAI sends an error code and no
    # usable data.
    if kyc.get("ret") != "Y":
        raise MalformedXml("The e-Aadhaar response does not report success.")
    uid_data = _one(kyc, "UidData")
    # docs/reference/aadhaar-xml.md §1: uid is masked (`xxxxxxxx1234`); even if a full number came,
    # only its tail is read.
    last4 = (uid_data.get("uid") or "")[-4:]
    if not _LAST4.fullmatch(last4):
        raise MalformedXml("The e-Aadhaar has no usable masked Aadhaar number.")
    poi = _one(uid_data, "Poi")
    return AadhaarData(
        name=poi.get("name") or "",
        date_of_birth=_dd_mm_yyyy(poi.get("dob") or ""),
        gender=poi.get("gender") or "",
        last4=last4,
        photo=_photo(uid_data),
        generated_at=kyc.get("ts") or "",
        address=_address(_optional_one(uid_data, "Poa"), _DIGILOCKER_ADDRESS),
    )


def read_offline(root: etree._Element) -> AadhaarData:
    """Variant B, UIDAI's `OfflinePaperlessKyc` (docs/reference/aadhaar-xml.md §2)."""
    if root.tag != "OfflinePaperlessKyc":
        raise MalformedXml("The XML is not an offline Aadhaar e-KYC.")
    reference = _REFERENCE_ID.fullmatch(root.get("referenceId") or "")
    if reference is None:
        raise MalformedXml("The offline e-KYC has no usable referenceId.")
    uid_data = _one(root, "UidData")
    poi = _one(uid_data, "Poi")
    return AadhaarData(
        name=poi.get("name") or "",
        date_of_birth=_dd_mm_yyyy(poi.get("dob") or ""),
        gender=poi.get("gender") or "",
        last4=reference.group(1),
        photo=_photo(uid_data),
        generated_at=_reference_timestamp(reference.group(2)),
        address=_address(_optional_one(uid_data, "Poa"), _OFFLINE_ADDRESS),
        email_hash=(poi.get("e") or "").strip().lower(),
        mobile_hash=(poi.get("m") or "").strip().lower(),
    )


def okyc_json(
    data: AadhaarData,
    *,
    signature_verified: bool,
    xml_file_url: str,
    xml_valid_until: str,
    email_verified: bool = False,
    phone_verified: bool = False,
    share_code: str = "",
) -> dict[str, Any]:
    """Setu's `aadhaar` object (docs/reference/setu-api.md §8; docs/reference/aadhaar-xml.md §3).

    `email`/`phone` carry the offline XML's hashes and are `""` for DigiLocker's e-Aadhaar,
    as in Setu's two examples.
    """
    return {
        "address": data.address.as_setu(),
        "dateOfBirth": data.date_of_birth,
        "email": data.email_hash,
        "gender": data.gender,
        "generatedAt": data.generated_at,
        "maskedNumber": data.masked_number,
        "name": data.name,
        "phone": data.mobile_hash,
        "photo": data.photo,
        "verified": {
            "email": email_verified,
            "phone": phone_verified,
            "signature": signature_verified,
        },
        "xml": {"fileUrl": xml_file_url, "shareCode": share_code, "validUntil": xml_valid_until},
    }


def _one(parent: etree._Element, tag: str) -> etree._Element:
    children = parent.findall(tag)
    if len(children) != 1:
        raise MalformedXml("The Aadhaar XML lacks a required element or repeats it.")
    return children[0]


def _optional_one(parent: etree._Element, tag: str) -> etree._Element | None:
    children = parent.findall(tag)
    if len(children) > 1:
        raise MalformedXml("The Aadhaar XML repeats an element that may appear once.")
    return children[0] if children else None


def _address(poa: etree._Element | None, source: dict[str, str]) -> AadhaarAddress:
    if poa is None:
        return AadhaarAddress()
    return AadhaarAddress(**{key: poa.get(attribute) or "" for key, attribute in source.items()})


def _photo(uid_data: etree._Element) -> str:
    pht = _optional_one(uid_data, "Pht")
    if pht is None:
        return ""
    # itertext joins text split by a comment (docs/reference/aadhaar-xml.md §4.1, pitfall 3) in
    # trees that still hold one; base64 wrapped over lines loses its whitespace
    # (docs/reference/aadhaar-xml.md §3: raw base64, no prefix).
    return "".join("".join(pht.itertext()).split())


def _dd_mm_yyyy(value: str) -> str:
    # docs/reference/aadhaar-xml.md §3: both Setu examples show DD-MM-YYYY; convert only an ISO
    # date, keep anything else.
    iso = _ISO_DATE.fullmatch(value.strip())
    if iso is None:
        return value.strip()
    year, month, day = iso.groups()
    return f"{day}-{month}-{year}"


def _reference_timestamp(stamp: str) -> str:
    """yyyyMMddHHmmssSSS (UIDAI's clock, India time) -> ISO 8601 with ms and +05:30, the
    shape of DigiLocker's `KycRes@ts`, so both variants answer `generatedAt` alike."""
    try:
        when = datetime.strptime(stamp[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise MalformedXml("The offline e-KYC referenceId holds no valid timestamp.") from None
    return f"{when:%Y-%m-%dT%H:%M:%S}.{stamp[14:]}+05:30"
