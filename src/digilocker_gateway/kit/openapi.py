"""OpenAPI helpers shared by every router: the error envelope's schema, each call's error
responses, and request bodies that are read by hand (after the credential check)."""

from __future__ import annotations

from typing import Any

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
