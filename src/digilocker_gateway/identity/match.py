"""Compare what a document says about its holder with what the caller expected
(docs/identity-match.md).

The answer has one entry per expected field that the document also carries: `result`
(`match`, `partial`, `mismatch`) and a `score` from 0 to 100. A field the document lacks is left
out rather than reported as a mismatch: a marksheet has no PAN to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from digilocker_gateway.identity.dates import parse_date
from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.identity.names import compare_names

__all__ = ["NUMBER_FIELDS", "FieldMatch", "Holder", "has_number_mismatch", "match_identity"]

Result = Literal["match", "partial", "mismatch"]

# Fields that are document numbers: a product instance may refuse a mismatch on one of them
# (docs/identity-match.md §5).
NUMBER_FIELDS = frozenset(
    {"pan", "drivingLicence", "vehicleRegistration", "documentNumber", "aadhaarLast4"}
)
_MASK = frozenset("X*")
_GENDERS = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F", "T": "T", "TRANSGENDER": "T"}


@dataclass(frozen=True, slots=True)
class FieldMatch:
    result: Result
    score: int

    def as_json(self) -> dict[str, object]:
        return {"result": self.result, "score": self.score}


@dataclass(frozen=True, slots=True)
class Holder:
    """What one document says about the person it was issued to; None where it says nothing."""

    name: str | None = None
    date_of_birth: str | None = None
    gender: str | None = None
    doc_type: str | None = None
    document_number: str | None = None
    aadhaar_last4: str | None = None


def _grade(score: int, *, match_at: int = 100, partial_at: int = 100) -> FieldMatch:
    if score >= match_at:
        return FieldMatch("match", score)
    return FieldMatch("partial" if score >= partial_at else "mismatch", score)


def compare_dates(expected: str, found: str) -> FieldMatch | None:
    """Equal dates match; a day and month swapped, or a year alone that agrees, is partial."""
    left, right = parse_date(expected), parse_date(found)
    if left is None or right is None:
        return None
    if left == right:
        return FieldMatch("match", 100)
    if left.year != right.year:
        return FieldMatch("mismatch", 0)
    if not left.full or not right.full:
        return FieldMatch("partial", 50)
    if (left.day, left.month) == (right.month, right.day):
        return FieldMatch("partial", 60)
    return FieldMatch("mismatch", 0)


def _alphanumeric(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum() or ch == "*")


def compare_numbers(expected: str, found: str) -> FieldMatch | None:
    """Equal numbers (ignoring case, spaces and punctuation) match; a masked number on the
    document (`XXXXX1001A`) whose visible characters agree is partial."""
    left, right = _alphanumeric(expected), _alphanumeric(found)
    if not left or not right:
        return None
    if left == right:
        return FieldMatch("match", 100)
    masked = [ch in _MASK for ch in right]
    visible = masked.count(False)
    if any(masked) and len(left) == len(right) and visible >= 4:
        agree = all(m or a == b for m, a, b in zip(masked, left, right, strict=True))
        if agree:
            return FieldMatch("partial", round(100 * visible / len(right)))
    # How alike two different numbers are (a typo scores high); only equal numbers match.
    return FieldMatch("mismatch", min(99, round(fuzz.ratio(left, right))))


def match_identity(expected: ExpectedIdentity, holder: Holder) -> dict[str, FieldMatch]:
    """One `FieldMatch` per expected field the holder's document carries."""
    found: dict[str, FieldMatch | None] = {}
    if expected.name and holder.name:
        names = compare_names(expected.name, holder.name)
        found["name"] = None if names is None else FieldMatch(names.result, names.score)
    if expected.dateOfBirth and holder.date_of_birth:
        found["dateOfBirth"] = compare_dates(expected.dateOfBirth, holder.date_of_birth)
    if expected.gender and holder.gender:
        gender = _GENDERS.get(holder.gender.strip().upper())
        if gender is not None:
            found["gender"] = _grade(100 if gender == expected.gender else 0)
    if holder.doc_type and holder.document_number:
        wanted = expected.number_for(holder.doc_type)
        if wanted is not None:
            field, number = wanted
            key = "documentNumber" if field.startswith("documentNumbers.") else field
            found[key] = compare_numbers(number, holder.document_number)
    if expected.aadhaarLast4 and holder.aadhaar_last4:
        found["aadhaarLast4"] = _grade(100 if expected.aadhaarLast4 == holder.aadhaar_last4 else 0)
    return {field: outcome for field, outcome in found.items() if outcome is not None}


def has_number_mismatch(matches: dict[str, FieldMatch]) -> bool:
    return any(field in NUMBER_FIELDS and m.result == "mismatch" for field, m in matches.items())
