"""Aadhaar extras, beside Setu's `aadhaar` object (docs/document-data.md §5): the care-of
split into relation and name, the address as display lines, and the age with an `isAdult`
flag. Setu's own object is left exactly as it is."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from digilocker_gateway.aadhaar.okyc import AadhaarAddress, AadhaarData
from digilocker_gateway.errors import CustomerDetailMismatch
from digilocker_gateway.identity.dates import age_on, parse_date
from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.identity.match import Holder, has_number_mismatch, match_identity

__all__ = ["ADULT_AGE", "aadhaar_extras", "aadhaar_match", "address_lines", "split_care_of"]

ADULT_AGE = 18
# `S/O: name` as Aadhaar writes it (docs/reference/aadhaar-xml.md §1, Poa@co), with or without
# the colon and spaces, or the relation spelled out.
_SHORT = re.compile(r"^\s*([SDWC])\s*/\s*O\b\s*[:.,\-]?\s*(.*)$", re.IGNORECASE | re.DOTALL)
_LONG = re.compile(
    r"^\s*(son|daughter|wife|care)\s+of\b\s*[:.,\-]?\s*(.*)$", re.IGNORECASE | re.DOTALL
)
_SPELLED = {"son": "S", "daughter": "D", "wife": "W", "care": "C"}


def split_care_of(care_of: str) -> dict[str, str | None]:
    """`{"relation": "S/O" | "D/O" | "W/O" | "C/O" | None, "name": …}`."""
    text = " ".join(care_of.split())
    if not text:
        return {"relation": None, "name": None}
    for pattern, letter_of in ((_SHORT, str.upper), (_LONG, lambda w: _SPELLED[w.lower()])):
        found = pattern.match(text)
        if found is not None:
            name = found.group(2).strip(" ,:-") or None
            return {"relation": f"{letter_of(found.group(1))}/O", "name": name}
    return {"relation": None, "name": text}


def address_lines(address: AadhaarAddress) -> list[str]:
    """The address as an envelope would show it: house and street; landmark and locality;
    village or town, post office and sub-district; district, state and PIN; country. Empty
    parts, and parts already shown (a town that is also its district), are left out."""
    shown: set[str] = set()

    def line(*parts: str) -> str:
        kept = []
        for part in (p.strip() for p in parts):
            if part and part.lower() not in shown:
                shown.add(part.lower())
                kept.append(part)
        return ", ".join(kept)

    # In display order, so that a part repeated further down is the one left out.
    lines = [
        line(address.house, address.street),
        line(address.landmark, address.locality),
        line(address.vtc, address.post_office, address.sub_district),
    ]
    region = line(address.district, address.state)
    lines.append(f"{region} {address.pin.strip()}".strip())
    lines.append(line(address.country))
    return [text for text in lines if text]


def aadhaar_extras(data: AadhaarData, today: date) -> dict[str, Any]:
    """The `aadhaarExtras` object for one e-Aadhaar, its age counted on `today` (India's date)."""
    born = parse_date(data.date_of_birth)
    age = None if born is None else age_on(born, today)
    return {
        "careOf": split_care_of(data.address.care_of),
        "addressLines": address_lines(data.address),
        "age": age,
        "isAdult": None if age is None else age >= ADULT_AGE,
    }


def aadhaar_match(
    expected: ExpectedIdentity, data: AadhaarData, *, refuse_number_mismatch: bool
) -> dict[str, Any]:
    """The `match` of an Aadhaar against what the caller expected (docs/identity-match.md §4);
    with `refuse_number_mismatch`, a wrong `aadhaarLast4` raises CustomerDetailMismatch."""
    holder = Holder(
        name=data.name,
        date_of_birth=data.date_of_birth,
        gender=data.gender,
        aadhaar_last4=data.last4,
    )
    found = match_identity(expected, holder)
    if refuse_number_mismatch and has_number_mismatch(found):
        raise CustomerDetailMismatch("The Aadhaar number is not the one expected for this request.")
    return {field: outcome.as_json() for field, outcome in found.items()}
