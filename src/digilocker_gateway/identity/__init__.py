"""Identity match: what the caller expects (`expected` on create) against what each document
says, with the gateway's own normalisation of Indian names (docs/identity-match.md)."""

from __future__ import annotations

from digilocker_gateway.identity.dates import BirthDate, age_on, parse_date
from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.identity.match import (
    NUMBER_FIELDS,
    FieldMatch,
    Holder,
    has_number_mismatch,
    match_identity,
)
from digilocker_gateway.identity.names import NameComparison, compare_names

__all__ = [
    "NUMBER_FIELDS",
    "BirthDate",
    "ExpectedIdentity",
    "FieldMatch",
    "Holder",
    "NameComparison",
    "age_on",
    "compare_names",
    "has_number_mismatch",
    "match_identity",
    "parse_date",
]
