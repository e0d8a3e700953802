"""OpenAPI helpers shared by every router: the error envelope's schema, each call's error
responses, and request bodies that are read by hand (after the credential check)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from digilocker_gateway.errors import GatewayError, MissingCredentials, Unauthorized


class ErrorBody(BaseModel):
    code: str
    detail: str
    traceId: str


class ErrorEnvelope(BaseModel):
    """Every error, whatever the status (docs/reference/setu-api.md §3)."""

    error: ErrorBody


def error_responses(*classes: type[GatewayError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an endpoint: each status it can answer with, and its codes."""
    by_status: dict[int, list[str]] = {}
    if Unauthorized in classes:  # every authenticated call can also lack the headers
        classes = (*classes, MissingCredentials)
    for cls in classes:
        by_status.setdefault(cls.status, []).append(cls.code)
    return {
        status: {"model": ErrorEnvelope, "description": "Error codes: " + ", ".join(codes)}
        for status, codes in sorted(by_status.items())
    }


def json_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra=` for a JSON body the endpoint reads itself; app.install_openapi adds the
    model's schema under components."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


CREDENTIAL_PARAMETERS = [
    {
        "name": name,
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }
    for name, description in (
        ("x-client-id", "Your client id"),
        ("x-client-secret", "Your client secret"),
        ("x-product-instance-id", "Your product instance id"),
    )
]


def install_openapi(app: FastAPI, *, body_models: Sequence[type[BaseModel]]) -> None:
    """The OpenAPI document as the API really behaves: bodies are read by hand after the
    credential check (so their schemas, and the schemas they refer to, are added here), every
    /api call takes the three credential headers, and validation errors are answered 400 in
    Setu's envelope, never FastAPI's 422."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in body_models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            # Nested models (a fetch body's parameters) become components of their own, so
            # every $ref resolves.
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path, operations in spec.get("paths", {}).items():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
                if path.startswith("/api/"):
                    operation["parameters"] = [
                        *operation.get("parameters", []),
                        *CREDENTIAL_PARAMETERS,
                    ]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
