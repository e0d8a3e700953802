"""/openapi.json describes exactly the public calls, their bodies and their errors."""

from __future__ import annotations

from typing import Any

from tests.support import Gateway

EXPECTED = {
    ("post", "/api/digilocker"),
    ("get", "/api/digilocker/{request_id}/status"),
    ("get", "/api/digilocker/documents"),
    ("post", "/api/digilocker/{request_id}/document"),
    ("get", "/api/digilocker/{request_id}/aadhaar"),
    ("get", "/api/digilocker/{request_id}/revoke"),
}


async def spec_of(gateway: Gateway) -> dict[str, Any]:
    response = await gateway.client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


async def test_openapi_lists_exactly_the_setu_calls(gateway: Gateway) -> None:
    spec = await spec_of(gateway)
    operations = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert operations == EXPECTED


async def test_every_call_documents_credentials_and_401(gateway: Gateway) -> None:
    spec = await spec_of(gateway)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
            assert headers == {"x-client-id", "x-client-secret", "x-product-instance-id"}, path
            assert "401" in operation["responses"], (method, path)
            assert "422" not in operation["responses"], (method, path)


async def test_bodies_and_errors_resolve_to_schemas(gateway: Gateway) -> None:
    spec = await spec_of(gateway)
    schemas = spec["components"]["schemas"]
    create = spec["paths"]["/api/digilocker"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[1] in schemas
    assert set(schemas["DigilockerRequestCreate"]["properties"]) == {"redirectUrl", "docType"}
    fetch = spec["paths"]["/api/digilocker/{request_id}/document"]["post"]
    ref = fetch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[ref.rsplit("/", 1)[1]]["properties"]) == {
        "docType",
        "orgId",
        "format",
        "consent",
        "parameters",
    }
    assert "consent_not_given" in fetch["responses"]["400"]["description"]
    aadhaar = spec["paths"]["/api/digilocker/{request_id}/aadhaar"]["get"]
    assert "unwrap_aadhaar_failed" in aadhaar["responses"]["500"]["description"]
    assert "HTTPValidationError" not in schemas
