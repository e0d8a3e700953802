"""Fetch document with `withData` and `expected`, end to end: journey -> simulator -> parsed,
verified data and the identity match, field by field (docs/document-data.md,
docs/identity-match.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from digilocker_gateway.db.models import RequestRecord
from tests.documents.test_fetch import fetch, fetch_body, stored_file_count
from tests.requests.test_create import assert_envelope
from tests.support import Gateway, sim_user, walk_journey

ALL_DOCS = "PANCR,DRVLC,HSCER,SSCER,RVCER"


async def signed_in(
    gateway: Gateway, expected: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    fields = {} if expected is None else {"expected": expected}
    journey = await walk_journey(gateway, doc_type=ALL_DOCS, create_fields=fields)
    assert journey.final_query["success"] == "true", journey.final_url
    return journey.request_id, await sim_user(gateway, "complete")


def document_of(user: dict[str, Any], doc_type: str) -> dict[str, Any]:
    return next(d for d in user["documents"] if d["docType"] == doc_type)


def expected_of(user: dict[str, Any], **changes: Any) -> dict[str, Any]:
    pan = document_of(user, "PANCR")["parameters"]["panno"]
    # The caller's own spelling: lower case, an honorific, another date shape.
    return {
        "name": "Ms. " + user["name"].lower(),
        "dateOfBirth": "1991-08-15",
        "gender": "female",
        "pan": pan.lower(),
        "aadhaarLast4": user["aadhaar"][-4:],
        **changes,
    }


async def test_pan_with_data_and_expected_answers_verified_fields_and_a_match(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    user = await sim_user(gateway, "complete")
    request_id, _ = await signed_in(gateway, expected_of(user))
    pan = document_of(user, "PANCR")
    response = await fetch(gateway, request_id, fetch_body(pan, withData=True))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"fileUrl", "validUpto", "parametersVerified", "data", "match"}
    data = body["data"]
    assert data["docType"] == "PANCR"
    assert data["documentNumber"] == pan["parameters"]["panno"]
    assert data["name"] == user["name"]
    assert data["dateOfBirth"] == "15-08-1991"
    assert data["gender"] == "F"
    assert data["issuer"] == {"orgId": pan["orgId"], "name": pan["issuer"]}
    assert data["address"]["careOf"].startswith("D/O")
    assert data["photo"].startswith("/9j/")
    assert data["maskedAadhaar"] == "xxxx-xxxx-" + user["aadhaar"][-4:]
    assert data["verified"] == {"signature": True}
    assert data["source"] == "xml"
    assert data["pan"]["number"] == pan["parameters"]["panno"]
    assert data["pan"]["fatherName"]
    assert body["match"] == {
        "name": {"result": "match", "score": 100},
        "dateOfBirth": {"result": "match", "score": 100},
        "gender": {"result": "match", "score": 100},
        "pan": {"result": "match", "score": 100},
        "aadhaarLast4": {"result": "match", "score": 100},
    }
    # The file is still the PDF that was asked for.
    download = await gateway.client.get(body["fileUrl"])
    assert download.content.startswith(b"%PDF")
    assert user["aadhaar"] not in response.text


async def test_xml_format_with_data_reads_the_file_it_stores(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await signed_in(gateway)
    licence = document_of(user, "DRVLC")
    response = await fetch(gateway, request_id, fetch_body(licence, format="xml", withData=True))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "match" not in body  # nothing was expected
    assert body["data"]["drivingLicence"]["number"] == licence["parameters"]["dlno"]
    assert body["data"]["verified"] == {"signature": True}
    download = await gateway.client.get(body["fileUrl"])
    assert download.content.startswith(b"<?xml")


async def test_every_parsed_doc_type_comes_back_with_its_own_fields(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await signed_in(gateway)
    for doc_type, key in (
        ("DRVLC", "drivingLicence"),
        ("HSCER", "marksheet"),
        ("RVCER", "vehicleRegistration"),
    ):
        document = document_of(user, doc_type)
        response = await fetch(gateway, request_id, fetch_body(document, withData=True))
        assert response.status_code == 200, response.text
        assert response.json()["data"][key] is not None, doc_type


async def test_expected_without_with_data_answers_match_only(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    user = await sim_user(gateway, "complete")
    request_id, _ = await signed_in(gateway, {"name": "Usha Testkumari"})
    response = await fetch(gateway, request_id, fetch_body(document_of(user, "DRVLC")))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" not in body
    assert body["match"] == {"name": {"result": "mismatch", "score": 50}}


async def test_wrong_expected_number_is_flagged_by_default(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    user = await sim_user(gateway, "complete")
    request_id, _ = await signed_in(gateway, expected_of(user, pan="AAAXT9999Z"))
    response = await fetch(gateway, request_id, fetch_body(document_of(user, "PANCR")))
    assert response.status_code == 200, response.text
    assert response.json()["match"]["pan"]["result"] == "mismatch"
    assert await stored_file_count(gateway) == 1


async def test_wrong_expected_number_is_400_and_stores_nothing_when_the_product_refuses(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    gateway.headers = await gateway.new_client_headers(refuse_number_mismatch=True)
    user = await sim_user(gateway, "complete")
    request_id, _ = await signed_in(gateway, expected_of(user, pan="AAAXT9999Z"))
    for file_format in ("pdf", "xml"):
        body = fetch_body(document_of(user, "PANCR"), format=file_format)
        assert_envelope(await fetch(gateway, request_id, body), 400, "customer_detail_mismatch")
    assert await stored_file_count(gateway) == 0
    # A wrong name is never refused, only flagged.
    request_id, _ = await signed_in(gateway, {"name": "Usha Testkumari"})
    response = await fetch(gateway, request_id, fetch_body(document_of(user, "PANCR")))
    assert response.status_code == 200, response.text


async def test_expected_is_stored_sealed_never_in_plain(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    user = await sim_user(gateway, "complete")
    request_id, _ = await signed_in(gateway, expected_of(user))
    async with gateway.runtime.reading() as session:
        stored = (
            await session.execute(
                select(RequestRecord.expected_enc).where(RequestRecord.id == request_id)
            )
        ).scalar_one()
    assert stored is not None
    assert stored.startswith("v1.")
    assert "testkumari" not in stored.lower()
    assert "1991" not in stored


async def test_document_without_xml_with_data_is_described_from_the_issued_list(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    user = await sim_user(gateway, "large-document")
    journey = await walk_journey(gateway, scenario="large-document", doc_type="DGCER")
    degree = document_of(user, "DGCER")
    response = await fetch(gateway, journey.request_id, fetch_body(degree, withData=True))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["source"] == "issuedList"
    assert data["documentNumber"] == degree["parameters"]["enrolment_no"]
    assert data["name"] is None
    assert data["verified"] == {"signature": False}


async def test_bad_expected_on_create_is_400_and_creates_nothing(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/api/digilocker",
        json={"redirectUrl": "https://app.example.com/done", "expected": {"gender": "X"}},
        headers=gateway.headers,
    )
    assert_envelope(response, 400, "invalid_payload")
    async with gateway.runtime.reading() as session:
        assert (await session.execute(select(RequestRecord.id))).first() is None
