"""Fetch document end to end: gateway -> simulator, for every scenario and error row."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from tests.requests.test_create import assert_envelope
from tests.support import Gateway, sim_user, walk_journey


def fetch_body(document: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {
        "docType": document["docType"],
        "orgId": document["orgId"],
        "format": "pdf",
        "consent": "Y",
        "parameters": [{"name": k, "value": v} for k, v in document["parameters"].items()],
    }
    body.update(overrides)
    return body


def pick(user: dict[str, Any], *, issued: bool | None = None, fmt: str | None = None) -> Any:
    for document in user["documents"]:
        if document["docType"] == "ADHAR":
            continue
        if issued is not None and document["issued"] != issued:
            continue
        if fmt is not None and fmt not in document["formats"]:
            continue
        return document
    raise AssertionError(f"no such document for {user['scenario']}")


async def fetch(gateway: Gateway, request_id: str, body: dict[str, Any]) -> Any:
    return await gateway.client.post(
        f"/api/digilocker/{request_id}/document", json=body, headers=gateway.headers
    )


async def authenticated(gateway: Gateway, scenario: str) -> tuple[str, dict[str, Any]]:
    user = await sim_user(gateway, scenario)
    doctypes = sorted({d["docType"] for d in user["documents"]})
    journey = await walk_journey(gateway, scenario=scenario, doc_type=",".join(doctypes))
    assert journey.final_query["success"] == "true", journey.final_url
    return journey.request_id, user


async def test_issued_pdf_is_fetched_and_downloads_as_the_users_document(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"fileUrl", "validUpto", "parametersVerified"}
    assert body["parametersVerified"] is True
    assert body["validUpto"].endswith("+05:30")
    download = await gateway.client.get(body["fileUrl"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(download.content)).pages[0].extract_text()
    assert user["name"] in text


async def test_issued_xml_is_fetched_as_xml(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    document = pick(user, issued=True, fmt="xml")
    response = await fetch(gateway, request_id, fetch_body(document, format="xml"))
    assert response.status_code == 200, response.text
    download = await gateway.client.get(response.json()["fileUrl"])
    assert download.headers["content-type"] == "application/xml"
    assert download.content.lstrip().startswith(b"<?xml")


async def test_document_not_yet_issued_is_pulled(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "nothing-issued")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=False)))
    assert response.status_code == 200, response.text
    download = await gateway.client.get(response.json()["fileUrl"])
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")


async def test_pull_that_stays_pending_returns_400_pull_response_pending(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "pull-pending")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=False)))
    assert_envelope(response, 400, "pull_response_pending")


async def test_wrong_parameter_values_return_400_record_not_found(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "nothing-issued")
    document = pick(user, issued=False)
    wrong = [{"name": name, "value": "NO-SUCH-VALUE-0"} for name in document["parameters"]]
    response = await fetch(gateway, request_id, fetch_body(document, parameters=wrong))
    assert_envelope(response, 400, "record_not_found")


async def test_issuer_down_returns_500_upstream_server_error(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "issuer-down")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert_envelope(response, 500, "upstream_server_error")


async def test_large_document_streams_through(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "large-document")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert response.status_code == 200, response.text
    download = await gateway.client.get(response.json()["fileUrl"])
    assert download.status_code == 200
    assert len(download.content) >= 10 * 1024 * 1024
    assert int(download.headers["content-length"]) == len(download.content)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"consent": "N"}, "consent_not_given"),
        ({"consent": "yes"}, "consent_not_given"),
        ({"consent": False}, "consent_not_given"),
        ({"consent": None}, "consent_not_given"),
        ({"format": "docx"}, "invalid_payload"),
        ({"orgId": "999999"}, "invalid_payload"),
        ({"parameters": []}, "invalid_payload"),
        ({"parameters": "not-a-list"}, "invalid_payload"),
        ({"docType": "pancr"}, "invalid_payload"),
    ],
)
async def test_invalid_fetch_body_returns_400(
    catalogued_gateway: Gateway, change: dict[str, Any], code: str
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True), **change))
    assert_envelope(response, 400, code)


async def test_unknown_parameter_returns_invalid_payload(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    document = pick(user, issued=True)
    body = fetch_body(document)
    body["parameters"].append({"name": "NOT_A_PARAMETER", "value": "1"})
    assert_envelope(await fetch(gateway, request_id, body), 400, "invalid_payload")


async def test_fetch_before_authentication_returns_401_user_not_authenticated(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    created = await gateway.create_request()
    user = await sim_user(gateway, "complete")
    response = await fetch(gateway, created["id"], fetch_body(pick(user, issued=True)))
    assert_envelope(response, 401, "user_not_authenticated")


async def test_fetch_for_another_tenant_returns_404(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    other = await gateway.new_client_headers()
    response = await gateway.client.post(
        f"/api/digilocker/{request_id}/document",
        json=fetch_body(pick(user, issued=True)),
        headers=other,
    )
    assert_envelope(response, 404, "request_not_found")


async def test_pull_for_user_without_aadhaar_returns_400_aadhaar_not_linked(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "aadhaar-not-linked")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=False)))
    assert_envelope(response, 400, "aadhaar_not_linked")


async def test_file_url_stops_working_after_it_expires(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    url = response.json()["fileUrl"]
    gateway.clock.advance(gateway.runtime.settings.file_url_lifetime_seconds + 1)
    expired = await gateway.client.get(url)
    assert_envelope(expired, 404, "not_found")


async def test_tampered_file_url_returns_404(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    url: str = response.json()["fileUrl"]
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert_envelope(await gateway.client.get(tampered), 404, "not_found")


def document_of(user: dict[str, Any], doc_type: str) -> dict[str, Any]:
    return next(d for d in user["documents"] if d["docType"] == doc_type and d["issued"])


async def stored_file_count(gateway: Gateway) -> int:
    from sqlalchemy import func, select

    from digilocker_gateway.db.models import StoredFile

    async with gateway.runtime.reading() as session:
        return int((await session.execute(select(func.count(StoredFile.id)))).scalar_one())


@pytest.mark.parametrize("doc_type", ["PANCR", "DRVLC"])
async def test_held_document_with_the_right_number_is_verified(
    catalogued_gateway: Gateway, doc_type: str
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    document = document_of(user, doc_type)
    # The number in another spelling (lower case, spaces) is still the same number.
    parameters = dict(document["parameters"])
    number = next(iter(parameters))
    parameters[number] = " ".join(parameters[number].lower())
    body = fetch_body(document, parameters=[{"name": k, "value": v} for k, v in parameters.items()])
    response = await fetch(gateway, request_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["parametersVerified"] is True


@pytest.mark.parametrize("doc_type", ["PANCR", "DRVLC"])
async def test_held_document_with_a_wrong_number_is_400_and_stores_nothing(
    catalogued_gateway: Gateway, doc_type: str
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    document = document_of(user, doc_type)
    parameters = dict(document["parameters"])
    number = next(iter(parameters))
    parameters[number] = parameters[number][:-1] + ("9" if parameters[number][-1] != "9" else "8")
    body = fetch_body(document, parameters=[{"name": k, "value": v} for k, v in parameters.items()])
    response = await fetch(gateway, request_id, body)
    assert_envelope(response, 400, "customer_detail_mismatch")
    assert await stored_file_count(gateway) == 0


async def test_held_document_whose_number_cannot_be_checked_says_so(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    # A marksheet's URI carries neither the roll number nor the year as given.
    document = document_of(user, "HSCER")
    response = await fetch(gateway, request_id, fetch_body(document))
    assert response.status_code == 200, response.text
    assert response.json()["parametersVerified"] is False
