"""Parsing DigiLocker's answers, including every spelling and shape quirk of reference §15."""

from __future__ import annotations

from typing import Any

import pytest

from digilocker_gateway.upstream.errors import UpstreamMalformedResponse
from digilocker_gateway.upstream.protocol import (
    parse_doctypes,
    parse_error,
    parse_issued_documents,
    parse_issuers,
    parse_pull_document,
    parse_search_parameters,
    parse_token_response,
    parse_user_details,
)

# Synthetic, in the shape of the reference §4 example.
TOKEN_BODY: dict[str, Any] = {
    "access_token": "bc12aa0000000000000000000000000000000078a",
    "expires_in": 3600,
    "token_type": "Bearer",
    "scope": "files.issueddocs userdetails partners.PANCR",
    "consent_valid_till": 1735689600,
    "refresh_token": "a47a000000000000000000000000000000000cb8f",
    "digilockerid": "123e4567-e89b-12d3-a456-426655440000",
    "name": "Sunil Kumar",
    "dob": "01121970",
    "gender": "M",
    "eaadhaar": "Y",
    "reference_key": "1c66000000000000000000000000840a",
    "mobile": "9000000001",
    "new_account": "N",
}


# token ---------------------------------------------------------------------------------------


def test_token_response_reads_every_field_of_the_reference_example() -> None:
    token = parse_token_response(TOKEN_BODY)
    assert token.access_token == TOKEN_BODY["access_token"]
    assert token.refresh_token == TOKEN_BODY["refresh_token"]
    assert token.expires_in == 3600
    assert token.scope == ("files.issueddocs", "userdetails", "partners.PANCR")
    assert token.token_type == "Bearer"
    assert token.digilockerid == "123e4567-e89b-12d3-a456-426655440000"
    assert (token.name, token.dob, token.gender) == ("Sunil Kumar", "01121970", "M")
    assert token.eaadhaar == "Y"
    assert token.reference_key == TOKEN_BODY["reference_key"]
    assert token.consent_valid_till == 1735689600
    assert (token.mobile, token.new_account) == ("9000000001", "N")
    assert token.id_token is None
    assert token.email is None


def test_token_response_reads_spec_spellings_digilocker_id_and_eaadhar() -> None:
    body = {"access_token": "t", "digilocker_id": "uuid-1", "eaadhar": "N"}
    token = parse_token_response(body)
    assert (token.digilockerid, token.eaadhaar) == ("uuid-1", "N")


def test_token_response_with_only_access_token_leaves_the_rest_unset() -> None:
    token = parse_token_response({"access_token": "t", "id_token": "h.p.s"})
    assert token.refresh_token is None
    assert token.expires_in is None
    assert token.scope == ()
    assert token.digilockerid is None
    assert token.id_token == "h.p.s"


def test_token_response_numeric_string_consent_valid_till_becomes_int() -> None:
    token = parse_token_response({"access_token": "t", "consent_valid_till": " 1735689600"})
    assert token.consent_valid_till == 1735689600


def test_token_response_integer_dob_keeps_its_leading_zero() -> None:
    assert parse_token_response({"access_token": "t", "dob": 1121970}).dob == "01121970"


def test_token_response_boolean_flags_become_y_and_n() -> None:
    token = parse_token_response({"access_token": "t", "eaadhaar": True, "new_account": False})
    assert (token.eaadhaar, token.new_account) == ("Y", "N")


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "Bearer"},
        {"access_token": ""},
        {"access_token": ["x"]},
        {"access_token": "t", "consent_valid_till": "soon"},
        {"access_token": "t", "expires_in": "1h"},
        {"access_token": "t", "scope": {"a": 1}},
        ["access_token"],
        "access_token",
    ],
)
def test_token_response_of_wrong_shape_is_malformed(body: object) -> None:
    with pytest.raises(UpstreamMalformedResponse):
        parse_token_response(body)


def test_token_response_repr_hides_tokens_and_personal_data() -> None:
    text = repr(parse_token_response(TOKEN_BODY))
    for secret in ("access_token", "refresh_token", "name", "dob", "mobile"):
        assert str(TOKEN_BODY[secret]) not in text
    assert "3600" in text


def test_malformed_message_names_the_field_but_not_its_value() -> None:
    with pytest.raises(UpstreamMalformedResponse) as caught:
        parse_token_response({"access_token": "t", "consent_valid_till": "secret-ish-99"})
    assert "consent_valid_till" in str(caught.value)
    assert "secret-ish-99" not in str(caught.value)


# user details ---------------------------------------------------------------------------------


def test_user_details_reads_a_flat_profile() -> None:
    user = parse_user_details(
        {
            "digilockerid": "uuid-2",
            "name": "Asha Rao",
            "dob": "05061990",
            "gender": "F",
            "eaadhaar": "Y",
            "reference_key": "rk",
            "mobile": "9000000002",
            "email": "asha@example.com",
        }
    )
    assert (user.digilockerid, user.name, user.dob, user.gender) == (
        "uuid-2",
        "Asha Rao",
        "05061990",
        "F",
    )
    assert (user.eaadhaar, user.mobile, user.email) == ("Y", "9000000002", "asha@example.com")


def test_user_details_unwraps_the_spec_details_object_with_spec_spellings() -> None:
    user = parse_user_details({"details": {"digilocker_id": "uuid-3", "eaadhar": "N"}})
    assert (user.digilockerid, user.eaadhaar) == ("uuid-3", "N")


def test_user_details_flat_fields_win_over_an_unrelated_details_key() -> None:
    user = parse_user_details({"digilockerid": "uuid-4", "details": {"digilockerid": "other"}})
    assert user.digilockerid == "uuid-4"


def test_user_details_not_an_object_is_malformed() -> None:
    with pytest.raises(UpstreamMalformedResponse):
        parse_user_details([{"digilockerid": "x"}])


# issued documents ---------------------------------------------------------------------------

ISSUED_ITEM: dict[str, Any] = {
    "name": "Class XII Marksheet",
    "type": "file",
    "size": "",
    "date": "2015-05-12T15:50:38Z",
    "parent": "",
    "mime": ["application/pdf", "application/xml"],
    "uri": "in.gov.cbse-HSCER-201412345678",
    "doctype": "HSCER",
    "description": "Class XII Marksheet",
    "issuerid": "in.gov.cbse",
    "issuer": "CBSE",
}


def test_issued_documents_v2_shape_with_mime_array() -> None:
    issued = parse_issued_documents({"items": [ISSUED_ITEM], "resource": "r1"})
    assert issued.resource == "r1"
    (document,) = issued.items
    assert document.uri == "in.gov.cbse-HSCER-201412345678"
    assert document.mime == ("application/pdf", "application/xml")
    assert (document.doctype, document.issuerid, document.issuer) == (
        "HSCER",
        "in.gov.cbse",
        "CBSE",
    )
    assert (document.name, document.date, document.size, document.parent) == (
        "Class XII Marksheet",
        "2015-05-12T15:50:38Z",
        "",
        "",
    )


def test_issued_document_mime_as_single_string_becomes_a_tuple() -> None:
    item = {**ISSUED_ITEM, "mime": "application/pdf", "date": "12/05/2015"}
    (document,) = parse_issued_documents({"items": [item]}).items
    assert document.mime == ("application/pdf",)
    assert document.date == "12/05/2015"  # kept opaque


def test_issued_documents_bare_array_and_details_wrapper_are_accepted() -> None:
    assert parse_issued_documents([ISSUED_ITEM]).items[0].doctype == "HSCER"
    wrapped = parse_issued_documents({"details": {"items": [ISSUED_ITEM]}})
    assert wrapped.items[0].uri == ISSUED_ITEM["uri"]


def test_issued_documents_missing_items_is_an_empty_list() -> None:
    assert parse_issued_documents({"resource": "r"}).items == ()


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{**ISSUED_ITEM, "uri": ""}]},
        {"items": [{**ISSUED_ITEM, "mime": {"pdf": True}}]},
        {"items": "in.gov.cbse-HSCER-1"},
        {"items": ["in.gov.cbse-HSCER-1"]},
    ],
)
def test_issued_documents_of_wrong_shape_are_malformed(body: object) -> None:
    with pytest.raises(UpstreamMalformedResponse):
        parse_issued_documents(body)


# meta-APIs --------------------------------------------------------------------------------------


def test_issuers_read_spec_categories_and_v24_category() -> None:
    body = {
        "issuers": [
            {
                "orgid": "002317",
                "issuerid": "in.gov.transport",
                "name": "Transport",
                "description": "d",
                "categories": "Transport",
            },
            {"orgid": "001891", "issuerid": "in.gov.cbse", "name": "CBSE", "category": "Edu"},
        ]
    }
    first, second = parse_issuers(body)
    assert (first.orgid, first.issuerid, first.name, first.categories) == (
        "002317",
        "in.gov.transport",
        "Transport",
        "Transport",
    )
    assert (second.orgid, second.categories, second.description) == ("001891", "Edu", "")


def test_issuer_without_orgid_is_malformed() -> None:
    with pytest.raises(UpstreamMalformedResponse, match="orgid"):
        parse_issuers({"issuers": [{"name": "No Org"}]})


def test_doctypes_list_is_parsed() -> None:
    body = {"documents": [{"doctype": "DRVLC", "description": "Driving Licence"}]}
    (doctype,) = parse_doctypes(body)
    assert (doctype.doctype, doctype.description) == ("DRVLC", "Driving Licence")


def test_search_parameters_from_spec_bare_array_and_v24_object_are_equal() -> None:
    entries = [
        {
            "label": "Licence No",
            "paramname": "dl_no",
            "example": "KA0120200001234",
            "valuelist": None,
        },
        {"label": "Year", "paramname": "year", "example": "2020", "valuelist": "2019, 2020,2021"},
    ]
    bare = parse_search_parameters(entries)
    wrapped = parse_search_parameters({"parameters": entries})
    assert bare == wrapped
    assert bare[0].paramname == "dl_no"
    assert bare[0].valuelist is None
    assert bare[1].valuelist == ("2019", "2020", "2021")


def test_search_parameter_empty_valuelist_string_means_free_text() -> None:
    (parameter,) = parse_search_parameters([{"paramname": "reg_no", "valuelist": ""}])
    assert parameter.valuelist is None


def test_search_parameters_wrong_shape_is_malformed() -> None:
    with pytest.raises(UpstreamMalformedResponse):
        parse_search_parameters({"parameters": {"paramname": "x"}})


# pull document and errors -----------------------------------------------------------------------


def test_pull_document_reads_flat_uri_and_spec_details_wrapper() -> None:
    assert parse_pull_document({"uri": "in.gov.x-DRVLC-1"}) == "in.gov.x-DRVLC-1"
    assert parse_pull_document({"details": {"uri": "in.gov.x-DRVLC-2"}}) == "in.gov.x-DRVLC-2"


def test_pull_document_without_uri_is_malformed() -> None:
    with pytest.raises(UpstreamMalformedResponse, match="uri"):
        parse_pull_document({"status": "ok"})


def test_error_object_is_read_and_other_shapes_are_not_errors() -> None:
    assert parse_error({"error": "invalid_token", "error_description": "bad"}) == (
        "invalid_token",
        "bad",
    )
    assert parse_error({"error": "uri_exists"}) == ("uri_exists", "")
    assert parse_error({"error": ""}) is None
    assert parse_error({"message": "oops"}) is None
    assert parse_error(["error"]) is None
