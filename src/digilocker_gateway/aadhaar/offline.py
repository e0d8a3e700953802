"""Offline Paperless e-KYC (variant B) helpers: checking a caller's email or mobile number
against the hashes UIDAI puts in `Poi@e` / `Poi@m` (docs/reference/aadhaar-xml.md §2.1).

UIDAI's rule: SHA-256 applied N times to `value + shareCode`, N being the last digit of the Aadhaar
number, with 0 and 1 both meaning once; each further round hashes the lower-case hex of the previous
digest (the reading that working code uses, docs/reference/aadhaar-xml.md §2.1). For email, UIDAI's
own FAQ also says "simple SHA256 of the email without any salt", so an email is accepted under
either rule.

Only the tests reach this module today: the offline e-KYC upload (`POST /api/aadhaar/offline`,
the document-data issue) is the call that will use it, with `verify_aadhaar_xml`'s variant B.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from digilocker_gateway.aadhaar.okyc import AadhaarData

__all__ = ["hash_matches", "salted_contact_hash", "verify_offline_contact"]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def salted_contact_hash(value: str, share_code: str, last_digit: int) -> str:
    """The hash of docs/reference/aadhaar-xml.md §2.1 of `value + share_code`, as 64 lower-case
    hex characters."""
    if not 0 <= last_digit <= 9:
        raise ValueError("last_digit must be a single digit")
    digest = hashlib.sha256((value + share_code).encode()).hexdigest()
    for _ in range(max(last_digit, 1) - 1):
        digest = hashlib.sha256(digest.encode()).hexdigest()
    return digest


def hash_matches(
    value: str,
    share_code: str,
    last_digit: int,
    expected_hex: str,
    *,
    allow_unsalted: bool = False,
) -> bool:
    """Whether `value` hashes to `expected_hex` under the rule of docs/reference/aadhaar-xml.md §2.1
    (or, with `allow_unsalted`, is the plain SHA-256 of `value`). An empty or non-hex expectation
    never matches."""
    expected = expected_hex.strip().lower()
    if not _HEX64.fullmatch(expected):
        return False
    # Constant-time comparisons: the expected hashes are what a guesser would probe for.
    if hmac.compare_digest(salted_contact_hash(value, share_code, last_digit), expected):
        return True
    if allow_unsalted:
        plain = hashlib.sha256(value.encode()).hexdigest()
        return hmac.compare_digest(plain, expected)
    return False


def verify_offline_contact(
    data: AadhaarData,
    *,
    share_code: str,
    email: str | None = None,
    mobile: str | None = None,
) -> tuple[bool, bool]:
    """`(email_verified, phone_verified)` for Setu's `verified.email` / `verified.phone`.

    A value not supplied, or an XML without the hash, is simply not verified.
    """
    last_digit = int(data.last4[-1])
    email_ok = email is not None and hash_matches(
        email.strip(), share_code, last_digit, data.email_hash, allow_unsalted=True
    )
    mobile_ok = mobile is not None and hash_matches(
        mobile.strip(), share_code, last_digit, data.mobile_hash
    )
    return email_ok, mobile_ok
