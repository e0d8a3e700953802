"""The journey options' pure parts (requests/options.py): hints, and the authorize parameters
each option becomes (docs/reference/digilocker-partner-api.md §3)."""

from __future__ import annotations

import pytest

from digilocker_gateway.requests.options import JourneyOptions, check_hint, hint_mobile


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("9876543210", "9876543210"),
        ("+91 98765 43210", "9876543210"),
        ("919876543210", "9876543210"),
        ("09876543210", "9876543210"),
        ("xxxx-xxxx-4321", "XXXXXXXX4321"),
        ("********4321", "XXXXXXXX4321"),
        ("  ", None),
    ],
)
def test_hint_is_normalised(given: str, normalised: str | None) -> None:
    assert check_hint(given) == normalised


@pytest.mark.parametrize("given", ["987654321", "0000000000", "999941057058", "XXXX5678", "me"])
def test_a_hint_that_is_neither_is_refused_without_repeating_it(given: str) -> None:
    with pytest.raises(ValueError, match="mobile number or a masked Aadhaar") as refused:
        check_hint(given)
    assert given not in str(refused.value)


def test_a_masked_aadhaar_is_no_mobile() -> None:
    assert hint_mobile("XXXXXXXX4321") is None
    assert hint_mobile("9876543210") == "9876543210"


def test_no_options_send_nothing_and_are_not_stored() -> None:
    assert JourneyOptions().authorize_parameters(None) == {}
    assert JourneyOptions().to_json() is None


def test_every_option_becomes_its_authorize_parameter() -> None:
    options = JourneyOptions(
        flow="signin",
        pinless=True,
        usernameless=True,
        consent_valid_till=1_900_000_000,
        purpose="Loan KYC",
    )

    assert options.authorize_parameters("9876543210") == {
        "pla": "Y",
        "ulsignup": "Y",
        "consent_valid_till": "1900000000",
        "purpose": "Loan KYC",
        "verified_mobile": "9876543210",
    }
    assert JourneyOptions.from_json(options.to_json()) == options


def test_pinless_sign_up_asks_plsignup() -> None:
    params = JourneyOptions(flow="signup", pinless=True).authorize_parameters(None)

    assert params == {"plsignup": "Y"}
