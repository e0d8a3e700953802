"""Field comparisons of docs/identity-match.md §3–§5, and the liberal reading of `expected`."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from digilocker_gateway.identity import (
    ExpectedIdentity,
    Holder,
    age_on,
    has_number_mismatch,
    match_identity,
    parse_date,
)
from digilocker_gateway.identity.match import compare_dates, compare_numbers


@pytest.mark.parametrize(
    ("left", "right", "result", "score"),
    [
        ("15-08-1991", "1991-08-15", "match", 100),
        ("15/08/1991", "15081991", "match", 100),
        ("15.8.1991", "15-08-1991", "match", 100),
        ("05-08-1991", "08-05-1991", "partial", 60),
        ("1991", "15-08-1991", "partial", 50),
        ("15-08-1991", "16-08-1991", "mismatch", 0),
        ("15-08-1991", "15-08-1992", "mismatch", 0),
    ],
)
def test_dates_of_birth_compare_in_any_common_shape(
    left: str, right: str, result: str, score: int
) -> None:
    found = compare_dates(left, right)
    assert found is not None
    assert (found.result, found.score) == (result, score)


def test_a_date_that_is_no_real_day_is_not_compared() -> None:
    assert compare_dates("08-15-1991", "15-08-1991") is None


def test_numbers_ignore_case_spacing_and_punctuation_and_masks_are_partial() -> None:
    equal = compare_numbers("aaaxt 1001-a", "AAAXT1001A")
    assert equal is not None
    assert (equal.result, equal.score) == ("match", 100)
    masked = compare_numbers("AAAXT1001A", "XXXXX1001A")
    assert masked is not None
    assert (masked.result, masked.score) == ("partial", 50)
    typo = compare_numbers("AAAXT1001B", "AAAXT1001A")
    assert typo is not None
    assert typo.result == "mismatch"
    assert 80 < typo.score < 100


def test_only_fields_both_sides_carry_are_matched() -> None:
    expected = ExpectedIdentity(
        name="Asha Testkumari", dateOfBirth="15-08-1991", gender="female", pan="AAAXT1001A"
    )
    marksheet = Holder(name="ASHA TESTKUMARI", doc_type="HSCER", document_number="200999123456")
    assert set(match_identity(expected, marksheet)) == {"name"}
    pan = Holder(
        name="Asha Testkumari",
        date_of_birth="15-08-1991",
        gender="F",
        doc_type="PANCR",
        document_number="AAAXT1001A",
        aadhaar_last4="9012",
    )
    found = {field: m.as_json() for field, m in match_identity(expected, pan).items()}
    assert found == {
        "name": {"result": "match", "score": 100},
        "dateOfBirth": {"result": "match", "score": 100},
        "gender": {"result": "match", "score": 100},
        "pan": {"result": "match", "score": 100},
    }


def test_a_wrong_number_is_a_number_mismatch_and_a_wrong_name_is_not() -> None:
    expected = ExpectedIdentity(name="Ravi Testsharma", drivingLicence="KA9920110012345")
    licence = Holder(name="Asha Testkumari", doc_type="DRVLC", document_number="KA9920110012346")
    found = match_identity(expected, licence)
    assert found["drivingLicence"].result == "mismatch"
    assert has_number_mismatch(found)
    assert not has_number_mismatch({"name": found["name"]})


def test_other_doc_types_are_matched_through_document_numbers() -> None:
    expected = ExpectedIdentity.model_validate({"documentNumbers": {"hscer": 200999123456}})
    found = match_identity(expected, Holder(doc_type="HSCER", document_number="200999123456"))
    assert found["documentNumber"].result == "match"


def test_aadhaar_last4_keeps_only_four_digits_of_whatever_it_is_given() -> None:
    expected = ExpectedIdentity.model_validate({"aadhaarLast4": "1234 5678 9012"})
    assert expected.aadhaarLast4 == "9012"
    assert "12345678" not in expected.model_dump_json()
    found = match_identity(expected, Holder(aadhaar_last4="9012"))
    assert found["aadhaarLast4"].result == "match"


def test_expected_is_read_liberally_and_refuses_wrong_meaning() -> None:
    read = ExpectedIdentity.model_validate(
        {"name": " Asha ", "gender": "Female", "pan": "", "dateOfBirth": 1991, "extra": 1}
    )
    assert (read.name, read.gender, read.pan, read.dateOfBirth) == ("Asha", "F", None, "1991")
    assert ExpectedIdentity().is_empty()
    for wrong in ({"dateOfBirth": "31-02-1991"}, {"gender": "X"}, {"aadhaarLast4": "12"}):
        with pytest.raises(ValidationError):
            ExpectedIdentity.model_validate(wrong)
    with pytest.raises(ValidationError):
        ExpectedIdentity.model_validate({"documentNumbers": {"not a doc type": "1"}})


def test_age_counts_completed_years_and_a_year_alone_from_its_last_day() -> None:
    born = parse_date("15-08-2007")
    assert born is not None
    assert age_on(born, date(2025, 8, 14)) == 17
    assert age_on(born, date(2025, 8, 15)) == 18
    year_only = parse_date("2007")
    assert year_only is not None
    assert age_on(year_only, date(2025, 12, 30)) == 17
    assert age_on(year_only, date(2025, 12, 31)) == 18
