"""Seeded synthetic users: one per scenario, safe numbers, documents the catalogue can pull."""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime
from typing import get_args

import pytest
from PIL import Image

from digilocker_gateway.kit.aadhaar_number import verhoeff_check_digit, verhoeff_valid
from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.model import Scenario, SimUser
from digilocker_gateway.simulator.users import (
    LARGE_DOCUMENT_BYTES,
    TEST_OTP,
    TEST_PIN,
    _Doc,
    _document,
    seed_users,
    synthetic_aadhaar,
)


@pytest.fixture(scope="module")
def users() -> list[SimUser]:
    return seed_users(build_catalogue(0))


def by_scenario(users: list[SimUser], scenario: Scenario) -> SimUser:
    return next(user for user in users if user.scenario == scenario)


def test_every_scenario_has_a_seeded_user(users: list[SimUser]) -> None:
    assert {user.scenario for user in users} == set(get_args(Scenario))


def test_aadhaar_numbers_start_with_1_and_carry_a_verhoeff_check_digit(
    users: list[SimUser],
) -> None:
    for user in users:
        assert re.fullmatch(r"1\d{11}", user.aadhaar), user.aadhaar
        assert verhoeff_valid(user.aadhaar)
    assert len({user.aadhaar for user in users}) == len(users)


def test_verhoeff_check_digit_matches_the_published_example() -> None:
    # The textbook example: 236 gets check digit 3.
    assert verhoeff_check_digit("236") == "3"
    assert verhoeff_valid("2363")
    assert not verhoeff_valid("2364")


def test_synthetic_aadhaar_numbers_differ_per_serial() -> None:
    assert len({synthetic_aadhaar(serial) for serial in range(500)}) == 500


def test_mobiles_are_ten_digits_starting_with_5(users: list[SimUser]) -> None:
    assert all(re.fullmatch(r"5\d{9}", user.mobile) for user in users)
    assert len({user.mobile for user in users}) == len(users)


def test_every_user_signs_in_with_the_fixed_test_otp_and_pin(users: list[SimUser]) -> None:
    assert (TEST_OTP, TEST_PIN) == ("123456", "111111")
    assert all(user.otp == TEST_OTP and user.pin == TEST_PIN for user in users)


def test_profile_fields_have_digilocker_shapes(users: list[SimUser]) -> None:
    for user in users:
        assert str(uuid.UUID(user.digilockerid)) == user.digilockerid
        datetime.strptime(user.dob, "%d%m%Y")  # raises if not DDMMYYYY
        assert user.email.endswith("@example.com")
        assert user.gender in {"M", "F", "T"}
        assert user.address.state
        assert user.address.pc
    assert len({user.digilockerid for user in users}) == len(users)


def test_seeding_twice_gives_equal_but_independent_users() -> None:
    catalogue = build_catalogue(0)
    first, second = seed_users(catalogue), seed_users(catalogue)
    assert [u.digilockerid for u in first] == [u.digilockerid for u in second]
    first[0].documents[0].issued = not first[0].documents[0].issued
    first[0].documents.clear()
    assert second[0].documents
    assert seed_users(catalogue)[0].documents == second[0].documents


def test_photo_is_a_small_jpeg_that_decodes(users: list[SimUser]) -> None:
    for user in users:
        assert user.photo_jpeg.startswith(b"\xff\xd8\xff")
        assert user.photo_jpeg.endswith(b"\xff\xd9")
        assert len(user.photo_jpeg) < 4096
        with Image.open(io.BytesIO(user.photo_jpeg)) as image:
            image.load()
            assert image.format == "JPEG"
            assert image.size == (48, 64)


def test_every_document_is_a_catalogue_pair_pulled_by_its_exact_parameters(
    users: list[SimUser],
) -> None:
    catalogue = build_catalogue(0)
    for user in users:
        for document in user.documents:
            doctype = catalogue.doctype(document.orgid, document.doctype)
            issuer = catalogue.issuer(document.orgid)
            assert doctype is not None, document.uri
            assert issuer is not None, document.uri
            assert set(document.parameters) == {p.paramname for p in doctype.parameters}
            for parameter in doctype.parameters:
                if parameter.valuelist is not None:
                    assert document.parameters[parameter.paramname] in parameter.valuelist
            assert document.issuerid == issuer.issuerid
            assert document.formats == doctype.formats


def test_document_uris_are_unique_across_users(users: list[SimUser]) -> None:
    uris = [document.uri for user in users for document in user.documents]
    assert len(uris) == len(set(uris))
    assert all("-" not in document.docid for user in users for document in user.documents)


def test_complete_user_holds_pan_licence_marksheet_and_vehicle_with_eaadhaar(
    users: list[SimUser],
) -> None:
    user = by_scenario(users, "complete")
    assert user.eaadhaar_flag == "Y"
    issued = {document.doctype: document for document in user.documents if document.issued}
    # Every document with a parser of its XML (docs/document-data.md §3) is held with XML.
    for doctype in ("PANCR", "DRVLC", "HSCER", "RVCER"):
        assert issued[doctype].formats == ("pdf", "xml"), doctype
    assert issued["HSCER"].issuerid == "in.gov.cbse"
    assert issued["HSCER"].subjects
    assert set(issued["HSCER"].subjects) <= set(issued["HSCER"].fields)
    assert issued["RVCER"].parameters["reg_no"] == issued["RVCER"].docid


def test_aadhaar_not_linked_user_has_no_eaadhaar_but_an_issued_pan(users: list[SimUser]) -> None:
    user = by_scenario(users, "aadhaar-not-linked")
    assert not user.aadhaar_linked
    assert user.eaadhaar_flag == "N"
    assert any(d.doctype == "PANCR" and d.issued for d in user.documents)


def test_eaadhaar_not_available_user_is_linked_without_eaadhaar(users: list[SimUser]) -> None:
    user = by_scenario(users, "eaadhaar-not-available")
    assert user.aadhaar_linked
    assert not user.eaadhaar_available
    assert user.eaadhaar_flag == "N"


def test_nothing_issued_user_can_pull_every_document(users: list[SimUser]) -> None:
    documents = by_scenario(users, "nothing-issued").documents
    assert documents
    assert all(not d.issued and d.pull_outcome == "issue" for d in documents)


def test_pull_pending_user_has_a_pending_unissued_document(users: list[SimUser]) -> None:
    documents = by_scenario(users, "pull-pending").documents
    assert any(not d.issued and d.pull_outcome == "pending" for d in documents)


def test_new_user_has_no_account_yet(users: list[SimUser]) -> None:
    user = by_scenario(users, "new-user")
    assert not user.has_account
    assert user.documents


def test_large_document_user_has_an_issued_document_over_10_mb(users: list[SimUser]) -> None:
    documents = by_scenario(users, "large-document").documents
    assert LARGE_DOCUMENT_BYTES >= 10 * 1024 * 1024 + 1
    assert any(d.issued and d.min_pdf_bytes >= LARGE_DOCUMENT_BYTES for d in documents)


def test_issuer_down_user_has_issued_and_pullable_documents_at_the_down_issuer(
    users: list[SimUser],
) -> None:
    down = [
        d for d in by_scenario(users, "issuer-down").documents if d.pull_outcome == "issuer_down"
    ]
    assert {d.issued for d in down} == {True, False}
    assert len({d.orgid for d in down}) == 1


def test_document_with_wrong_parameter_names_is_refused() -> None:
    spec = _Doc("000436", "HSCER", "X1", {"rroll": "1"}, True, {})
    with pytest.raises(ValueError, match="pulled with"):
        _document(build_catalogue(0), spec)


def test_document_at_unknown_pair_is_refused() -> None:
    spec = _Doc("000436", "DRVLC", "X1", {}, True, {})
    with pytest.raises(LookupError):
        _document(build_catalogue(0), spec)
