"""A typed Python client of the gateway's Setu-compatible API, which works against Setu's own
hosts unchanged (docs/sdk.md).

It needs only httpx, pydantic and tenacity (`pip install "digilocker-gateway[client]"`), and
imports nothing of the server."""

from __future__ import annotations

from digilocker_gateway.client._core import CatalogueCache, Credentials, Progress
from digilocker_gateway.client.async_client import AsyncDigiLockerClient
from digilocker_gateway.client.callback import CallbackResult, parse_callback
from digilocker_gateway.client.errors import (
    AadhaarError,
    AuthenticationError,
    ConsentError,
    DigiLockerError,
    GatewayOnlyError,
    InvalidRequestError,
    NetworkError,
    NotAuthenticatedError,
    NotFoundError,
    RequestTimeoutError,
    ServerError,
    UpstreamError,
    WaitTimeoutError,
)
from digilocker_gateway.client.models import (
    Aadhaar,
    AadhaarAddress,
    AadhaarResult,
    AadhaarVerified,
    AadhaarXml,
    Catalogue,
    CatalogueDocument,
    CatalogueParameter,
    DigiLockerRequest,
    DocumentParameter,
    FetchedDocument,
    RequestStatus,
    RevokeResult,
    UserDetails,
)
from digilocker_gateway.client.sync_client import DigiLockerClient

__all__ = [
    "Aadhaar",
    "AadhaarAddress",
    "AadhaarError",
    "AadhaarResult",
    "AadhaarVerified",
    "AadhaarXml",
    "AsyncDigiLockerClient",
    "AuthenticationError",
    "CallbackResult",
    "Catalogue",
    "CatalogueCache",
    "CatalogueDocument",
    "CatalogueParameter",
    "ConsentError",
    "Credentials",
    "DigiLockerClient",
    "DigiLockerError",
    "DigiLockerRequest",
    "DocumentParameter",
    "FetchedDocument",
    "GatewayOnlyError",
    "InvalidRequestError",
    "NetworkError",
    "NotAuthenticatedError",
    "NotFoundError",
    "Progress",
    "RequestStatus",
    "RequestTimeoutError",
    "RevokeResult",
    "ServerError",
    "UpstreamError",
    "UserDetails",
    "WaitTimeoutError",
    "parse_callback",
]
