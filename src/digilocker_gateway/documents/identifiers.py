"""Whether the parameters a caller sent name the document the user already holds.

DigiLocker's issued list answers a fetch without looking at the caller's parameters, so without
this check a wrong PAN number would return the user's real PAN. The source is the issued
document's URI: DigiLocker builds it as `<issuer id>-<doc type>-<document number>`
(docs/reference/digilocker-partner-api.md §6, §8), so its last part is the number issued. Which
search parameter carries that number is known per doc type (`NUMBER_PARAMETERS`); for other doc
types a parameter that equals the number still counts as a match, and otherwise the
parameters cannot be checked. docs/reference/setu-api.md §4.4 tells callers the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

# Doc type → the search parameter that is the document number (the catalogue's names).
NUMBER_PARAMETERS: Mapping[str, str] = {
    "PANCR": "panno",
    "DRVLC": "dlno",
    "RVCER": "reg_no",
}


class ParameterCheck(Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    UNCHECKED = "unchecked"


def document_number(uri: str, doc_type: str) -> str | None:
    """The number at the end of an issued document's URI, or None if the URI has another shape."""
    marker = f"-{doc_type}-"
    if marker not in uri:
        return None
    number = uri.rsplit(marker, 1)[1]
    return number or None


def _normalised(value: str) -> str:
    # Numbers are written with spaces, hyphens or slashes and in either case by callers.
    return "".join(ch for ch in value.upper() if ch.isalnum())


def check_parameters(doc_type: str, uri: str, parameters: Mapping[str, str]) -> ParameterCheck:
    """Compare the caller's parameters with the number of the issued document at `uri`."""
    number = document_number(uri, doc_type)
    if number is None:
        return ParameterCheck.UNCHECKED
    expected = _normalised(number)
    named = NUMBER_PARAMETERS.get(doc_type)
    if named is not None and named in parameters:
        matches = _normalised(parameters[named]) == expected
        return ParameterCheck.MATCH if matches else ParameterCheck.MISMATCH
    if any(_normalised(value) == expected for value in parameters.values()):
        return ParameterCheck.MATCH
    return ParameterCheck.UNCHECKED
