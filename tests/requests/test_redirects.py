"""The redirect back keeps the caller's own query string as it was written."""

from __future__ import annotations

from digilocker_gateway.requests.redirects import failure_redirect, success_redirect


def test_caller_query_is_kept_byte_for_byte() -> None:
    url = success_redirect(
        "https://app.example.com/done?flag&x=a%20b;y=2&sig=AbC%2F",
        request_id="r1",
        doc_types=["ADHAR", "PANCR"],
    )
    assert url == (
        "https://app.example.com/done?flag&x=a%20b;y=2&sig=AbC%2F"
        "&success=true&id=r1&scope=ADHAR+PANCR"
    )


def test_caller_cannot_preset_our_parameters() -> None:
    url = failure_redirect(
        "https://app.example.com/done?success=true&id=forged&keep=1",
        request_id="r1",
        code="user_consent_not_given",
        message="Denied by user",
    )
    assert url == (
        "https://app.example.com/done?keep=1&success=false&id=r1"
        "&errCode=user_consent_not_given&errMessage=Denied+by+user"
    )


def test_url_without_query_gets_only_ours() -> None:
    url = success_redirect("https://app.example.com/done", request_id="r1", doc_types=[])
    assert url == "https://app.example.com/done?success=true&id=r1&scope="
