"""DigiLocker's protocol without I/O: PKCE, `state`, the authorize URL, the meta-API hash and
the file `hmac`; plus (re-exported from `responses`) the typed answers and their parsers.

Everything here is a pure function of its arguments (or of `secrets` for fresh randomness), so
it is tested directly; `client.py` composes it with an `httpx.AsyncClient`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal
from urllib.parse import quote, urlencode

from digilocker_gateway.upstream.responses import (
    DocTypeInfo,
    IssuedDocument,
    IssuedDocuments,
    Issuer,
    SearchParameter,
    TokenResponse,
    UserDetails,
    parse_account_registered,
    parse_doctypes,
    parse_error,
    parse_issued_documents,
    parse_issuers,
    parse_pull_document,
    parse_search_parameters,
    parse_token_response,
    parse_user_details,
)

__all__ = [
    "AUTHORIZE_PATH",
    "DEFAULT_META_HASH_FIELDS",
    "DocTypeInfo",
    "HmacChecker",
    "IssuedDocument",
    "IssuedDocuments",
    "Issuer",
    "MetaHashEncoding",
    "SearchParameter",
    "TokenResponse",
    "UserDetails",
    "authorize_url",
    "consented_doctypes",
    "file_hmac",
    "make_pkce_pair",
    "make_state",
    "meta_hash",
    "parse_account_registered",
    "parse_doctypes",
    "parse_error",
    "parse_issued_documents",
    "parse_issuers",
    "parse_pull_document",
    "parse_search_parameters",
    "parse_token_response",
    "parse_user_details",
    "pkce_challenge",
]

AUTHORIZE_PATH = "/oauth2/1/authorize"

MetaHashEncoding = Literal["hex", "base64"]

# [V24]'s per-endpoint orders all fit one sequence with absent fields skipped: issuers hash
# secret+clientid+ts, doctypes add orgid, parameters add orgid and doctype
# (docs/reference/digilocker-partner-api.md §11).
DEFAULT_META_HASH_FIELDS: tuple[str, ...] = ("client_secret", "clientid", "orgid", "doctype", "ts")

# RFC 7636 section 4.1: 43-128 characters from the unreserved set.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")

# Parameters authorize_url sets itself; `extra` may not silently replace them.
_CORE_AUTHORIZE_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
        "req_doctype",
        "dl_flow",
    }
)


def pkce_challenge(verifier: str) -> str:
    """S256 challenge: base64url, without padding, of SHA-256(verifier) (RFC 7636 section 4.2)."""
    if not _VERIFIER.fullmatch(verifier):
        raise ValueError("a PKCE verifier is 43-128 unreserved characters")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_pkce_pair() -> tuple[str, str]:
    """A fresh `(code_verifier, code_challenge)`; the verifier carries 384 random bits."""
    # token_urlsafe only emits [A-Za-z0-9_-], a subset of the unreserved set; 48 bytes -> 64 chars.
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce_challenge(verifier)


def make_state() -> str:
    """An unguessable OAuth `state` (256 random bits), URL-safe."""
    return secrets.token_urlsafe(32)


def authorize_url(
    base_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    req_doctype: Sequence[str] = (),
    dl_flow: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The browser URL of DigiLocker's authorize page (docs/reference/digilocker-partner-api.md §3).

    `base_url` ends at `/public`, e.g. "https://digilocker.meripehchaan.gov.in/public".
    """
    # The spec capitalises `Code_challenge`; real clients send lower case
    # (docs/reference/digilocker-partner-api.md §3).
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    doctypes = [doctype for doctype in req_doctype if doctype]
    if doctypes:
        params["req_doctype"] = ",".join(doctypes)
    if dl_flow:
        params["dl_flow"] = dl_flow
    for key, value in (extra or {}).items():
        if key in _CORE_AUTHORIZE_PARAMS:
            raise ValueError(f"authorize parameter {key!r} cannot be passed in extra")
        params[key] = value
    return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(params, quote_via=quote)}"


def meta_hash(
    values: Mapping[str, str],
    *,
    field_order: Sequence[str] = DEFAULT_META_HASH_FIELDS,
    encoding: MetaHashEncoding = "hex",
) -> str:
    """The pull meta-APIs' `hmac` form field: a plain SHA-256 (not keyed, despite the name) of
    the present fields concatenated in `field_order`. No source states the output encoding, so
    it is configurable; lower-case hex by default (docs/reference/digilocker-partner-api.md §11)."""
    message = "".join(values[name] for name in field_order if name in values)
    digest = hashlib.sha256(message.encode("utf-8")).digest()
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return base64.b64encode(digest).decode("ascii")
    raise ValueError(f"unknown meta hash encoding {encoding!r}")


def file_hmac(client_secret: str, body: bytes) -> str:
    """The `hmac` header of a file answer: base64(HMAC-SHA256(client_secret, body))
    (docs/reference/digilocker-partner-api.md §8; docs/reference/aadhaar-xml.md §5)."""
    return base64.b64encode(
        hmac.new(client_secret.encode("utf-8"), body, hashlib.sha256).digest()
    ).decode("ascii")


class HmacChecker:
    """`file_hmac` computed chunk by chunk while a file streams through."""

    __slots__ = ("_mac",)

    def __init__(self, client_secret: str) -> None:
        self._mac = hmac.new(client_secret.encode("utf-8"), digestmod=hashlib.sha256)

    def update(self, chunk: bytes) -> None:
        self._mac.update(chunk)

    def value(self) -> str:
        """The base64 header value for the bytes seen so far."""
        return base64.b64encode(self._mac.copy().digest()).decode("ascii")

    def verify(self, header_value: str) -> bool:
        """Whether `header_value` matches the bytes seen so far, compared in constant time.

        The header is base64 (docs/reference/digilocker-partner-api.md §8); padding may be missing,
        and a 64-character hex digest is accepted too, since no source pins the encoding down
        beyond one client."""
        expected = self._mac.copy().digest()
        given = _decode_digest(header_value.strip())
        return given is not None and hmac.compare_digest(expected, given)


def _decode_digest(text: str) -> bytes | None:
    if _HEX_DIGEST.fullmatch(text):
        return bytes.fromhex(text)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def consented_doctypes(scope: str | Iterable[str]) -> tuple[str, ...]:
    """The DOCTYPEs the user consented to, from `partners.DOCTYPE` scope entries
    (docs/reference/digilocker-partner-api.md §3), in order and without repeats."""
    entries = scope.split() if isinstance(scope, str) else scope
    found: dict[str, None] = {}
    for entry in entries:
        prefix, _, doctype = entry.partition(".")
        if prefix == "partners" and doctype:
            found.setdefault(doctype, None)
    return tuple(found)
