"""A bounded, seeded property-based run against the real app (schemathesis): cases generated
from /openapi.json, sent with real credentials and a real authenticated request, must never
answer 5xx and must conform to the document (status, content type, body, headers)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample
from schemathesis import checks
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response

from tests.support import Gateway, walk_journey

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 50
# Revoke last: it ends the authenticated request the other operations use.
ORDER = [
    "POST /api/digilocker",
    "GET /api/digilocker/documents",
    "GET",
    "POST",
    "PATCH",
    "DELETE",
    "GET revoke",
]
# (The offline upload is a POST like fetch-document; it needs no request.)


def collect_cases(strategy: Any, count: int) -> list[Any]:
    """`count` deterministic cases from a hypothesis strategy, outside @given (the calls to the
    app are asynchronous)."""
    cases: list[Any] = []

    def keep(case: Any) -> bool:
        cases.append(case)
        return False

    try:
        find(
            strategy,
            keep,
            settings=settings(
                max_examples=count,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )
    except NoSuchExample:
        pass
    return cases


def order_of(method: str, path: str) -> int:
    label = f"{method} {path}"
    if label in ORDER:
        return ORDER.index(label)
    return ORDER.index("GET revoke") if path.endswith("/revoke") else ORDER.index(method)


def multipart_files(generated: Any) -> list[tuple[str, Any]]:
    """The generated file parts as httpx takes them. A schema-typed `format: binary` part can
    come out as a number or null; a real client sends bytes, so the value's text is sent."""
    if not generated:
        return [("file", ("empty.zip", b""))]
    items = generated.items() if isinstance(generated, dict) else generated
    return [(name, _file_part(value)) for name, value in items]


def _file_part(value: Any) -> Any:
    if isinstance(value, tuple):  # (filename, content, ...): the content may be generated too
        return (value[0], _file_part(value[1]), *value[2:]) if len(value) > 1 else value
    return value if isinstance(value, bytes | str) else str(value).encode()


async def test_generated_calls_never_fail_and_conform_to_the_document(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    journey = await walk_journey(gateway, doc_type="PANCR,DRVLC")
    spec = (await gateway.client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(spec)
    loaded = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in loaded), loaded
    operations = sorted(
        (result.ok() for result in loaded if isinstance(result, Ok)),
        key=lambda operation: order_of(operation.method.upper(), operation.path),
    )
    assert (
        len(operations) == 19
    )  # Setu's 6, offline upload, issued, account check, webhooks 9, audit 1
    checked = 0
    server_errors: list[str] = []
    for operation in operations:
        for number, case in enumerate(
            collect_cases(operation.as_strategy(), EXAMPLES_PER_OPERATION)
        ):
            # Most cases use real credentials and, where there is one, the real request; the
            # rest keep what was generated (unknown ids, wrong credentials).
            if number % 5:
                case.headers = {**(case.headers or {}), **gateway.headers}
                if "request_id" in (case.path_parameters or {}):
                    case.path_parameters["request_id"] = journey.request_id
            kwargs = case.as_transport_kwargs(base_url=str(gateway.client.base_url))
            if "files" in kwargs or isinstance(kwargs.get("data"), dict):
                # A multipart form (the offline e-KYC upload): httpx builds the body.
                headers = {
                    k: v for k, v in (kwargs.get("headers") or {}).items() if k != "Content-Type"
                }
                response = await gateway.client.request(
                    kwargs["method"],
                    kwargs["url"],
                    headers=headers,
                    params=kwargs.get("params"),
                    files=multipart_files(kwargs.get("files")),
                    data=kwargs.get("data"),
                )
                response.request.read()  # a multipart body streams; the checks read it
            else:
                response = await gateway.client.request(
                    kwargs["method"],
                    kwargs["url"],
                    headers=kwargs.get("headers"),
                    params=kwargs.get("params"),
                    content=_body(kwargs),
                )
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.formatted_path} -> {response.text}")
                continue
            # Every check but "schema-valid data gets a 2xx": a well-formed call for a document
            # the user did not share is a 400 the document lists, not a fault.
            case.validate_response(
                Response.from_any(response), excluded_checks=[checks.positive_data_acceptance]
            )
            checked += 1
    assert server_errors == []
    assert checked >= 600


def _body(kwargs: dict[str, Any]) -> bytes | None:
    if "json" in kwargs:
        return httpx.Request("POST", "http://x", json=kwargs["json"]).content
    content = kwargs.get("content", kwargs.get("data"))
    return content if isinstance(content, bytes) else None
