"""The user's issued documents and fetch by a listed document (docs/journey-options.md §3),
end to end through the gateway and the embedded simulator."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.documents.test_fetch import authenticated, fetch
from tests.support import Gateway, walk_journey

SCENARIOS_WITH_AN_ACCOUNT = [
    "complete",
    "aadhaar-not-linked",
    "eaadhaar-not-available",
    "nothing-issued",
    "pull-pending",
    "large-document",
    "issuer-down",
]


async def issued_of(gateway: Gateway, request_id: str) -> Any:
    return await gateway.client.get(f"/api/digilocker/{request_id}/issued", headers=gateway.headers)


async def listed(gateway: Gateway, request_id: str) -> list[dict[str, Any]]:
    response = await issued_of(gateway, request_id)
    assert response.status_code == 200, response.text
    documents: list[dict[str, Any]] = response.json()["documents"]
    return documents


@pytest.mark.parametrize("scenario", SCENARIOS_WITH_AN_ACCOUNT)
async def test_issued_list_shows_what_the_user_holds_and_shared(
    catalogued_gateway: Gateway, scenario: str
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, scenario)

    documents = await listed(gateway, request_id)

    held = sorted(d["docType"] for d in user["documents"] if d["issued"])
    assert sorted(d["docType"] for d in documents) == held
    for item in documents:
        assert item["uri"].startswith(f"{item['issuerId']}-{item['docType']}-")
        assert item["availableFormats"]
        assert set(item["availableFormats"]) <= {"pdf", "xml"}
        assert item["description"]
        assert item["orgName"]
        # Every pull document is in the catalogue, and so fetchable by its uri now.
        assert item["fetchable"] is (item["orgId"] is not None)
        if item["docType"] != "ADHAR":
            assert item["orgId"] is not None


async def test_issued_list_leaves_out_what_the_user_did_not_share(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    journey = await walk_journey(
        gateway, scenario="complete", doc_type="PANCR,DRVLC", doctypes=["PANCR"]
    )

    documents = await listed(gateway, journey.request_id)

    assert [d["docType"] for d in documents] == ["PANCR"]


async def test_listed_document_is_fetched_by_uri_without_parameters(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    item = next(d for d in await listed(gateway, request_id) if d["docType"] == "DRVLC")
    body = {
        "docType": item["docType"],
        "orgId": item["orgId"],
        "format": "pdf",
        "consent": "Y",
        "uri": item["uri"],
    }

    response = await fetch(gateway, request_id, body)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["parametersVerified"] is False
    download = await gateway.client.get(answer["fileUrl"])
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")


async def test_uri_the_user_does_not_hold_is_400_invalid_uri(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    item = (await listed(gateway, request_id))[0]
    body = {
        "docType": item["docType"],
        "orgId": item["orgId"],
        "format": "pdf",
        "consent": "Y",
        "uri": item["uri"] + "0",
    }

    response = await fetch(gateway, request_id, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_uri"


async def test_uri_of_another_doc_type_is_400_invalid_payload(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    documents = await listed(gateway, request_id)
    pan = next(d for d in documents if d["docType"] == "PANCR")
    licence = next(d for d in documents if d["docType"] == "DRVLC")
    body = {
        "docType": "PANCR",
        "orgId": pan["orgId"],
        "format": "pdf",
        "consent": "Y",
        "uri": licence["uri"],
    }

    response = await fetch(gateway, request_id, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_payload"
    assert error["detail"].startswith("uri:")


async def test_uri_with_parameters_is_400_invalid_payload(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    item = next(d for d in await listed(gateway, request_id) if d["docType"] == "PANCR")
    body = {
        "docType": item["docType"],
        "orgId": item["orgId"],
        "format": "pdf",
        "consent": "Y",
        "uri": item["uri"],
        "parameters": [{"name": "panno", "value": "AAAXT1001A"}],
    }

    response = await fetch(gateway, request_id, body)

    assert response.status_code == 400
    assert response.json()["error"]["detail"].startswith("uri:")


async def test_uri_of_a_document_not_shared_is_400_user_consent_not_given(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    everything, _ = await authenticated(gateway, "complete")
    licence = next(d for d in await listed(gateway, everything) if d["docType"] == "DRVLC")
    only_pan = await walk_journey(
        gateway, scenario="complete", doc_type="PANCR,DRVLC", doctypes=["PANCR"]
    )
    body = {
        "docType": "DRVLC",
        "orgId": licence["orgId"],
        "format": "pdf",
        "consent": "Y",
        "uri": licence["uri"],
    }

    response = await fetch(gateway, only_pan.request_id, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "user_consent_not_given"


async def test_issued_before_authentication_is_401_user_not_authenticated(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    created = await gateway.create_request()

    response = await issued_of(gateway, created["id"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_not_authenticated"


async def test_issued_of_another_tenants_request_is_404(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    other = await gateway.new_client_headers()

    response = await gateway.client.get(f"/api/digilocker/{request_id}/issued", headers=other)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "request_not_found"


async def test_issued_not_allowed_for_the_instance_is_403(catalogued_gateway: Gateway) -> None:
    from digilocker_gateway.tenants.service import set_journey_options

    headers = await catalogued_gateway.new_client_headers()
    async with catalogued_gateway.runtime.transaction() as session:
        await set_journey_options(
            session, headers["x-product-instance-id"], {"allowed_extensions": "docTypes"}
        )
    gateway = replace(catalogued_gateway, headers=headers)
    request_id, _ = await authenticated(gateway, "complete")

    response = await issued_of(gateway, request_id)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "extension_not_allowed"
