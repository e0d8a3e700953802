"""The identity a caller expects for a request (`expected` on create,
docs/identity-match.md §1), sealed with the request's row (storage/sealed.py) and opened by the
calls that compare documents with it. It is purged with the request, and never logged."""

from __future__ import annotations

from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.storage.sealed import EXPECTED_IDENTITY, SealedValues


def seal_expected(
    sealed: SealedValues, request_id: str, expected: ExpectedIdentity | None
) -> str | None:
    """The sealed column value; None when the caller expects nothing."""
    if expected is None or expected.is_empty():
        return None
    return sealed.seal(EXPECTED_IDENTITY, request_id, expected.model_dump_json(exclude_none=True))


def open_expected(sealed: SealedValues, request: RequestRecord) -> ExpectedIdentity | None:
    if request.expected_enc is None:
        return None
    plain = sealed.open(EXPECTED_IDENTITY, request.id, request.expected_enc)
    return ExpectedIdentity.model_validate_json(plain)
