"""Aadhaar extras beside Setu's object (docs/document-data.md §5), and the identity match on
the fetch-Aadhaar answer (docs/identity-match.md §4)."""

from __future__ import annotations

from datetime import date

import pytest

from digilocker_gateway.aadhaar.extras import aadhaar_extras, address_lines, split_care_of
from digilocker_gateway.aadhaar.okyc import AadhaarAddress, AadhaarData
from tests.aadhaar.test_endpoint import aadhaar_call
from tests.documents.test_fetch import stored_file_count
from tests.requests.test_create import assert_envelope
from tests.support import Gateway, sim_user, walk_journey


@pytest.mark.parametrize(
    ("care_of", "relation", "name"),
    [
        ("S/O: Mohan Testsharma", "S/O", "Mohan Testsharma"),
        ("D/O Ravi Testkumar", "D/O", "Ravi Testkumar"),
        ("w/o, Imran Testkhan", "W/O", "Imran Testkhan"),
        ("C / O: Gopal Samplenair", "C/O", "Gopal Samplenair"),
        ("Son of Prakash Testnath", "S/O", "Prakash Testnath"),
        ("Wife Of: Naresh Testverma", "W/O", "Naresh Testverma"),
        ("Naresh Testverma", None, "Naresh Testverma"),
        ("S/O:", "S/O", None),
        ("", None, None),
    ],
)
def test_care_of_is_split_into_relation_and_name(
    care_of: str, relation: str | None, name: str | None
) -> None:
    assert split_care_of(care_of) == {"relation": relation, "name": name}


def test_address_lines_skip_empty_and_repeated_parts() -> None:
    address = AadhaarAddress(
        house="7-B",
        street="Test Cross Road",
        landmark="Opp. Sample School",
        locality="",
        vtc="Mocknagar",
        post_office="Mocknagar PO",
        sub_district="mocknagar",
        district="Mocknagar",
        state="Karnataka",
        pin="560099",
        country="India",
    )
    assert address_lines(address) == [
        "7-B, Test Cross Road",
        "Opp. Sample School",
        "Mocknagar, Mocknagar PO",
        "Karnataka 560099",
        "India",
    ]
    assert address_lines(AadhaarAddress()) == []


def _data(dob: str) -> AadhaarData:
    return AadhaarData(
        name="Asha Testkumari",
        date_of_birth=dob,
        gender="F",
        last4="9012",
        photo="",
        generated_at="2025-01-02T10:11:12.345+05:30",
        address=AadhaarAddress(care_of="D/O: Ravi Testkumar"),
    )


@pytest.mark.parametrize(
    ("dob", "today", "age", "adult"),
    [
        ("15-08-2007", date(2025, 8, 14), 17, False),
        ("15-08-2007", date(2025, 8, 15), 18, True),
        ("2007", date(2025, 12, 30), 17, False),
        ("not a date", date(2025, 1, 1), None, None),
    ],
)
def test_age_and_is_adult_come_from_the_date_of_birth(
    dob: str, today: date, age: int | None, adult: bool | None
) -> None:
    extras = aadhaar_extras(_data(dob), today)
    assert (extras["age"], extras["isAdult"]) == (age, adult)
    assert extras["careOf"] == {"relation": "D/O", "name": "Ravi Testkumar"}


async def test_aadhaar_answer_carries_extras_and_match_beside_setus_object(
    gateway: Gateway,
) -> None:
    user = await sim_user(gateway, "complete")
    expected = {"name": "Asha T", "dateOfBirth": "15/08/1991", "aadhaarLast4": user["aadhaar"]}
    journey = await walk_journey(gateway, doc_type="ADHAR", create_fields={"expected": expected})
    response = await aadhaar_call(gateway, journey.request_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"aadhaar", "id", "status", "aadhaarExtras", "match"}
    assert "careOf" in body["aadhaar"]["address"]  # Setu's object is unchanged
    extras = body["aadhaarExtras"]
    assert extras["careOf"]["relation"] == "D/O"
    assert extras["addressLines"][0] == "12, 1st Main"
    assert extras["isAdult"] is True
    assert extras["age"] >= 33
    assert body["match"] == {
        "name": {"result": "partial", "score": 85},
        "dateOfBirth": {"result": "match", "score": 100},
        "aadhaarLast4": {"result": "match", "score": 100},
    }


async def test_wrong_aadhaar_number_is_refused_when_the_product_says_so(gateway: Gateway) -> None:
    gateway.headers = await gateway.new_client_headers(refuse_number_mismatch=True)
    journey = await walk_journey(
        gateway, doc_type="ADHAR", create_fields={"expected": {"aadhaarLast4": "0000"}}
    )
    assert_envelope(
        await aadhaar_call(gateway, journey.request_id), 400, "customer_detail_mismatch"
    )
    assert await stored_file_count(gateway) == 0
