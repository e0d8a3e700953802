"""The redirect back, parsed."""

from __future__ import annotations

from digilocker_gateway.client import parse_callback


def test_success_url_is_parsed_with_scopes() -> None:
    back = parse_callback(
        "https://app.example.com/kyc/done?sessionId=XYZ&success=true&id=abc&scope=files.issueddocs+PANCR"
    )
    assert back.success
    assert back.id == "abc"
    assert back.scopes == ["files.issueddocs", "PANCR"]
    assert back.err_code is None


def test_failure_query_carries_the_code_and_message() -> None:
    back = parse_callback("success=false&id=abc&errCode=user_consent_not_given&errMessage=Denied")
    assert not back.success
    assert back.err_code == "user_consent_not_given"
    assert back.err_message == "Denied"


def test_parsed_mapping_and_anything_but_true_is_failure() -> None:
    assert parse_callback({"success": "True", "id": "x"}).success
    assert not parse_callback({"success": "yes"}).success
    assert parse_callback({}).id is None
