"""Request shapes real Setu clients send — their own fields, "y" or true for consent, numbers
for values, no content type, trailing slashes, wrong methods — get the answer the canonical
request gets (docs/reference/setu-api.md §2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.requests.test_create import assert_envelope
from tests.support import REDIRECT_URL, Gateway, sim_user, walk_journey

CANONICAL_CREATE = {"redirectUrl": REDIRECT_URL, "docType": "PANCR"}


def without_trace(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in ("traceId", "id", "url")}


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/api/digilocker", {**CANONICAL_CREATE, "documents": ["PANCR"], "sessionId": "s-1"}, {}),
        ("/api/digilocker", {**CANONICAL_CREATE, "purpose": "kyc", "extra": {"a": 1}}, {}),
        ("/api/digilocker", {**CANONICAL_CREATE, "docType": "  PANCR "}, {}),
        ("/api/digilocker/", CANONICAL_CREATE, {}),
        ("/api/digilocker", CANONICAL_CREATE, {"content-type": ""}),
        ("/api/digilocker", CANONICAL_CREATE, {"content-type": "text/plain; charset=utf-8"}),
    ],
)
async def test_create_variants_answer_as_the_canonical_create(
    gateway: Gateway, path: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    canonical = await gateway.client.post(
        "/api/digilocker", json=CANONICAL_CREATE, headers=gateway.headers
    )
    variant = await gateway.client.post(
        path, content=json.dumps(body).encode(), headers={**gateway.headers, **headers}
    )
    assert canonical.status_code == variant.status_code == 200, variant.text
    assert set(variant.json()) == set(canonical.json())
    assert without_trace(variant.json()) == without_trace(canonical.json())
    # The same journey: the same doc type asked of DigiLocker.
    for created in (canonical.json(), variant.json()):
        start = await gateway.client.get(created["url"])
        assert "req_doctype=PANCR" in start.headers["location"]


async def test_a_form_body_is_refused_and_creates_nothing(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/api/digilocker", data={"redirectUrl": REDIRECT_URL}, headers=gateway.headers
    )
    assert_envelope(response, 400, "invalid_payload")
    assert "JSON" in response.json()["error"]["detail"]


@pytest.fixture
async def held(catalogued_gateway: Gateway) -> tuple[Gateway, str, dict[str, Any]]:
    gateway = catalogued_gateway
    user = await sim_user(gateway, "complete")
    journey = await walk_journey(gateway, doc_type="PANCR,HSCER")
    marksheet = next(d for d in user["documents"] if d["docType"] == "HSCER")
    return gateway, journey.request_id, marksheet


def canonical_fetch(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "docType": document["docType"],
        "orgId": document["orgId"],
        "format": "pdf",
        "consent": "Y",
        "parameters": [{"name": k, "value": v} for k, v in document["parameters"].items()],
    }


def numbers_unquoted(document: dict[str, Any]) -> dict[str, Any]:
    body = canonical_fetch(document)
    body["parameters"] = [
        {"name": p["name"], "value": int(p["value"]) if p["value"].isdigit() else p["value"]}
        for p in body["parameters"]
    ]
    assert any(isinstance(p["value"], int) for p in body["parameters"])
    return body


@pytest.mark.parametrize(
    "variant",
    ["consent_y", "consent_true", "numbers", "extra_fields", "no_content_type", "slash", "spaces"],
)
async def test_fetch_variants_answer_as_the_canonical_fetch(
    held: tuple[Gateway, str, dict[str, Any]], variant: str
) -> None:
    gateway, request_id, document = held
    path = f"/api/digilocker/{request_id}/document"
    body: dict[str, Any] = {
        "consent_y": {**canonical_fetch(document), "consent": "y"},
        "consent_true": {**canonical_fetch(document), "consent": True},
        "numbers": numbers_unquoted(document),
        "extra_fields": {**canonical_fetch(document), "purpose": "kyc", "requestId": "r-1"},
        "spaces": {
            **canonical_fetch(document),
            "docType": f" {document['docType']} ",
            "orgId": f"{document['orgId']}\t",
            "format": "PDF",
        },
    }.get(variant, canonical_fetch(document))
    content_type = "" if variant == "no_content_type" else "application/json"
    headers = {**gateway.headers, "content-type": content_type}
    canonical = await gateway.client.post(
        path, json=canonical_fetch(document), headers=gateway.headers
    )
    answered = await gateway.client.post(
        path + ("/" if variant == "slash" else ""),
        content=json.dumps(body).encode(),
        headers=headers,
    )
    assert canonical.status_code == answered.status_code == 200, answered.text
    assert set(answered.json()) == set(canonical.json())
    assert answered.json()["parametersVerified"] == canonical.json()["parametersVerified"]
    first = await gateway.client.get(canonical.json()["fileUrl"])
    second = await gateway.client.get(answered.json()["fileUrl"])
    assert first.content == second.content


@pytest.mark.parametrize("consent", ["N", "n", "yes", False, 1, None, ""])
async def test_anything_but_consent_is_400_consent_not_given(
    held: tuple[Gateway, str, dict[str, Any]], consent: Any
) -> None:
    gateway, request_id, document = held
    response = await gateway.client.post(
        f"/api/digilocker/{request_id}/document",
        json={**canonical_fetch(document), "consent": consent},
        headers=gateway.headers,
    )
    assert_envelope(response, 400, "consent_not_given")


async def test_doc_types_are_matched_case_sensitively(
    held: tuple[Gateway, str, dict[str, Any]],
) -> None:
    gateway, request_id, document = held
    response = await gateway.client.post(
        f"/api/digilocker/{request_id}/document",
        json={**canonical_fetch(document), "docType": document["docType"].lower()},
        headers=gateway.headers,
    )
    assert_envelope(response, 400, "invalid_payload")


async def test_every_get_answers_with_a_trailing_slash(gateway: Gateway) -> None:
    created = await gateway.create_request()
    for path in (
        f"/api/digilocker/{created['id']}/status",
        "/api/digilocker/documents",
        f"/api/digilocker/{created['id']}/aadhaar",
        f"/api/digilocker/{created['id']}/revoke",
    ):
        plain = await gateway.client.get(path, headers=gateway.headers)
        slashed = await gateway.client.get(path + "/", headers=gateway.headers)
        assert plain.status_code == slashed.status_code, path
        assert plain.status_code != 307, path
        assert plain.headers["content-type"] == slashed.headers["content-type"], path
        if plain.headers["content-type"] == "application/json":
            assert without_trace(_flat(plain.json())) == without_trace(_flat(slashed.json()))


def _flat(body: dict[str, Any]) -> dict[str, Any]:
    return body["error"] if "error" in body else body


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/digilocker", "POST"),
        ("PUT", "/api/digilocker/", "POST"),
        ("DELETE", "/api/digilocker/{id}/status", "GET"),
        ("POST", "/api/digilocker/{id}/revoke", "GET"),
        ("GET", "/api/digilocker/{id}/document", "POST"),
        ("POST", "/api/digilocker/documents", "GET"),
    ],
)
async def test_a_wrong_method_is_405_in_the_envelope_with_allow(
    gateway: Gateway, method: str, path: str, allowed: str
) -> None:
    created = await gateway.create_request()
    response = await gateway.client.request(
        method, path.replace("{id}", created["id"]), headers=gateway.headers
    )
    assert_envelope(response, 405, "method_not_allowed")
    assert sorted(response.headers["allow"].replace(" ", "").split(",")) == sorted(
        allowed.replace(" ", "").split(",")
    )
