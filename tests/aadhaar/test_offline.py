"""The offline e-KYC email/mobile hash rule, against every vector in aadhaar-xml.md §2 and on
the simulator's signed offline documents."""

from __future__ import annotations

import pytest

from digilocker_gateway.aadhaar.offline import (
    hash_matches,
    salted_contact_hash,
    verify_offline_contact,
)
from digilocker_gateway.aadhaar.okyc import AadhaarAddress, AadhaarData, read_offline
from digilocker_gateway.aadhaar.verify import TrustedSigners, verify_aadhaar_xml
from digilocker_gateway.simulator.model import SimUser
from tests.aadhaar.conftest import SHARE_CODE as SIMULATOR_SHARE_CODE

# aadhaar-xml.md §2, "Vectors computed here".
MOBILE = "9800000002"
EMAIL = "test@example.com"
SHARE_CODE = "1234"
MOBILE_N4 = "4baa3fcab30134cb16bd72c182c208eef88f4ee8ece56c78bb484bf8b17480bc"
MOBILE_N0 = "27fa6f4dc563ada369d36e088317e1889145d67ab4bf4e968b1c319326c50a8d"
EMAIL_N7 = "f4a97f732e703c6d91d93bcb382ee016865a711ef7942119ca780d1dcf5cd5a1"
EMAIL_PLAIN = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"


def offline_data(*, last4: str, email_hash: str = "", mobile_hash: str = "") -> AadhaarData:
    return AadhaarData(
        name="Asha Testkumari",
        date_of_birth="15-08-1991",
        gender="F",
        last4=last4,
        photo="",
        generated_at="2025-01-02T10:11:12.345+05:30",
        address=AadhaarAddress(),
        email_hash=email_hash,
        mobile_hash=mobile_hash,
    )


@pytest.mark.parametrize(
    ("value", "last_digit", "expected"),
    [(MOBILE, 4, MOBILE_N4), (MOBILE, 0, MOBILE_N0), (EMAIL, 7, EMAIL_N7)],
)
def test_salted_hash_reproduces_reference_vector(
    value: str, last_digit: int, expected: str
) -> None:
    assert salted_contact_hash(value, SHARE_CODE, last_digit) == expected


def test_last_digit_zero_and_one_both_hash_once() -> None:
    assert salted_contact_hash(MOBILE, SHARE_CODE, 1) == MOBILE_N0


def test_last_digit_two_hashes_differently_from_one() -> None:
    assert salted_contact_hash(MOBILE, SHARE_CODE, 2) != MOBILE_N0


def test_last_digit_out_of_range_raises_value_error() -> None:
    with pytest.raises(ValueError, match="single digit"):
        salted_contact_hash(MOBILE, SHARE_CODE, 10)


def test_matching_mobile_hash_matches() -> None:
    assert hash_matches(MOBILE, SHARE_CODE, 4, MOBILE_N4)


def test_upper_case_expected_hash_still_matches() -> None:
    assert hash_matches(MOBILE, SHARE_CODE, 4, MOBILE_N4.upper())


def test_wrong_share_code_does_not_match() -> None:
    assert not hash_matches(MOBILE, "4321", 4, MOBILE_N4)


def test_wrong_round_count_does_not_match() -> None:
    assert not hash_matches(MOBILE, SHARE_CODE, 5, MOBILE_N4)


def test_empty_expected_hash_never_matches() -> None:
    assert not hash_matches(MOBILE, SHARE_CODE, 4, "")


def test_plain_sha256_matches_only_when_unsalted_allowed() -> None:
    assert not hash_matches(EMAIL, SHARE_CODE, 7, EMAIL_PLAIN)
    assert hash_matches(EMAIL, SHARE_CODE, 7, EMAIL_PLAIN, allow_unsalted=True)


def test_contact_with_matching_mobile_verifies_phone_only() -> None:
    data = offline_data(last4="5674", mobile_hash=MOBILE_N4, email_hash=EMAIL_N7)

    assert verify_offline_contact(data, share_code=SHARE_CODE, mobile=MOBILE) == (False, True)


def test_contact_with_salted_email_verifies_email() -> None:
    data = offline_data(last4="1237", email_hash=EMAIL_N7)

    assert verify_offline_contact(data, share_code=SHARE_CODE, email=EMAIL) == (True, False)


def test_contact_with_plain_sha256_email_verifies_email() -> None:
    data = offline_data(last4="1230", email_hash=EMAIL_PLAIN)

    assert verify_offline_contact(data, share_code=SHARE_CODE, email=f" {EMAIL} ") == (True, False)


def test_contact_uses_last_aadhaar_digit_as_round_count() -> None:
    # The N=4 hash checked against a number ending in 0 (one round) must fail.
    data = offline_data(last4="5670", mobile_hash=MOBILE_N4)

    assert verify_offline_contact(data, share_code=SHARE_CODE, mobile=MOBILE) == (False, False)


def test_contact_without_hashes_in_xml_verifies_nothing() -> None:
    data = offline_data(last4="5674")

    result = verify_offline_contact(data, share_code=SHARE_CODE, email=EMAIL, mobile=MOBILE)

    assert result == (False, False)


def test_contact_with_wrong_mobile_is_not_verified() -> None:
    data = offline_data(last4="5674", mobile_hash=MOBILE_N4)

    assert verify_offline_contact(data, share_code=SHARE_CODE, mobile="9800000003") == (
        False,
        False,
    )


def test_simulator_offline_document_verifies_users_email_and_mobile(
    offline_xml: bytes, trusted: TrustedSigners, user: SimUser
) -> None:
    data = read_offline(verify_aadhaar_xml(offline_xml, trusted, variant="offline").root)

    result = verify_offline_contact(
        data, share_code=SIMULATOR_SHARE_CODE, email=user.email, mobile=user.mobile
    )

    assert result == (True, True)


def test_simulator_offline_document_with_wrong_share_code_verifies_nothing(
    offline_xml: bytes, trusted: TrustedSigners, user: SimUser
) -> None:
    data = read_offline(verify_aadhaar_xml(offline_xml, trusted, variant="offline").root)

    result = verify_offline_contact(data, share_code="9999", email=user.email, mobile=user.mobile)

    assert result == (False, False)
