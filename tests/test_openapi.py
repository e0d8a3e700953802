"""/openapi.json describes exactly the public calls, their bodies and their errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support import Gateway

EXPECTED = {
    ("post", "/api/digilocker"),
    ("get", "/api/digilocker/{request_id}/status"),
    ("get", "/api/digilocker/documents"),
    ("post", "/api/digilocker/{request_id}/document"),
    ("get", "/api/digilocker/{request_id}/aadhaar"),
    ("get", "/api/digilocker/{request_id}/revoke"),
    # Gateway extension (docs/document-data.md §6).
    ("post", "/api/aadhaar/offline"),
    # Gateway extensions (docs/journey-options.md §3, §4).
    ("get", "/api/digilocker/{request_id}/issued"),
    ("post", "/api/digilocker/accounts/verify"),
    # Gateway extensions: webhooks (docs/webhooks.md §6) and the audit log (docs/audit.md §4).
    ("post", "/api/digilocker/webhooks"),
    ("get", "/api/digilocker/webhooks"),
    ("get", "/api/digilocker/webhooks/deliveries"),
    ("get", "/api/digilocker/webhooks/{endpoint_id}"),
    ("patch", "/api/digilocker/webhooks/{endpoint_id}"),
    ("delete", "/api/digilocker/webhooks/{endpoint_id}"),
    ("post", "/api/digilocker/webhooks/{endpoint_id}/rotate-secret"),
    ("get", "/api/digilocker/webhooks/{endpoint_id}/deliveries"),
    ("post", "/api/digilocker/webhooks/{endpoint_id}/replay"),
    ("get", "/api/digilocker/{request_id}/audit"),
}


async def spec_of(gateway: Gateway) -> dict[str, Any]:
    response = await gateway.client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


async def test_openapi_lists_exactly_the_setu_calls_and_the_extensions(gateway: Gateway) -> None:
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
    # Setu's fields, and the gateway's extensions: `expected` (docs/identity-match.md §1) and
    # the journey options (docs/journey-options.md §1).
    assert set(schemas["DigilockerRequestCreate"]["properties"]) == {
        "redirectUrl",
        "docType",
        "expected",
        "docTypes",
        "flow",
        "pinless",
        "usernameless",
        "consentValidUntil",
        "consentValidSeconds",
        "purpose",
        "requestLifetimeSeconds",
        "hint",
    }
    fetch = spec["paths"]["/api/digilocker/{request_id}/document"]["post"]
    ref = fetch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[ref.rsplit("/", 1)[1]]["properties"]) == {
        "docType",
        "orgId",
        "format",
        "consent",
        "parameters",
        "withData",
        "uri",
    }
    fetched = fetch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    answer = schemas[fetched.rsplit("/", 1)[1]]["properties"]
    assert {"data", "match"} <= set(answer)
    assert "ExpectedIdentity" in schemas
    assert "DocumentData" in schemas
    assert "consent_not_given" in fetch["responses"]["400"]["description"]
    aadhaar = spec["paths"]["/api/digilocker/{request_id}/aadhaar"]["get"]
    assert "unwrap_aadhaar_failed" in aadhaar["responses"]["500"]["description"]
    assert "HTTPValidationError" not in schemas
    offline = spec["paths"]["/api/aadhaar/offline"]["post"]
    form = offline["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file", "shareCode"]
    refusals = offline["responses"]["400"]["description"]
    for code in (
        "offline_ekyc_wrong_share_code",
        "offline_ekyc_tampered",
        "offline_ekyc_expired",
        "offline_ekyc_zip_bomb",
        "offline_ekyc_unsafe_entry",
        "offline_ekyc_not_zip",
        "offline_ekyc_too_large",
    ):
        assert code in refusals


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs_in(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs_in(value)]
    return []


async def test_document_is_valid_openapi_and_every_ref_resolves(gateway: Gateway) -> None:
    from openapi_spec_validator import validate

    spec = await spec_of(gateway)
    validate(spec)  # raises on an invalid document
    refs = refs_in(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"], ref


async def test_schemas_say_what_validation_enforces(gateway: Gateway) -> None:
    schemas = (await spec_of(gateway))["components"]["schemas"]
    create = schemas["DigilockerRequestCreate"]
    assert create["required"] == ["redirectUrl"]
    assert create["properties"]["redirectUrl"]["format"] == "uri"
    assert create["properties"]["redirectUrl"]["minLength"] == 1
    fetch = schemas["DocumentFetch"]
    consent = fetch["properties"]["consent"]
    assert {"type": "string", "enum": ["Y", "y"]} in consent["anyOf"]
    assert fetch["properties"]["format"]["enum"] == ["pdf", "xml"]
    assert "additionalProperties" not in fetch  # unknown fields are ignored, not refused


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_api_reference_pages_load_every_asset_from_the_gateway(
    gateway: Gateway, page: str
) -> None:
    response = await gateway.client.get(page)
    assert response.status_code == 200
    html = response.text
    assets = re.findall(r"""(?:src|href)\s*[=:]\s*['"]([^'"]+)['"]""", html)
    assert assets
    assert not [url for url in assets if url.startswith(("http:", "https:", "//"))], assets
    for url in assets:
        asset = await gateway.client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
