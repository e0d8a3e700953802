"""DigiLocker's JSON answers, parsed into typed, frozen values. Pure: no I/O.

The parsers absorb the spec's quirks instead of trusting its schemas
(docs/reference/digilocker-partner-api.md §15): `digilockerid`/`digilocker_id` and
`eaadhaar`/`eaadhar` are both read, `details` wrappers are unwrapped, `dob` stays an 8-character
string, `mime` may be an array or a string, search parameters may be a bare array or
`{"parameters": [...]}`. A value of the wrong shape raises `UpstreamMalformedResponse`, whose
message names the field but never echoes its value.

Tokens and personal data are left out of the reprs so an accidental log line cannot leak them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from digilocker_gateway.upstream.errors import UpstreamMalformedResponse

__all__ = [
    "DocTypeInfo",
    "IssuedDocument",
    "IssuedDocuments",
    "Issuer",
    "SearchParameter",
    "TokenResponse",
    "UserDetails",
    "parse_account_registered",
    "parse_doctypes",
    "parse_error",
    "parse_issued_documents",
    "parse_issuers",
    "parse_pull_document",
    "parse_search_parameters",
    "parse_token_response",
    "parse_user_details",
]

JsonObject = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """`/oauth2/1/token` (or `/2/token`) success; only `access_token` is guaranteed
    (docs/reference/digilocker-partner-api.md §4)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_in: int | None = None
    scope: tuple[str, ...] = ()
    token_type: str | None = None
    digilockerid: str | None = None
    name: str | None = field(default=None, repr=False)
    dob: str | None = field(default=None, repr=False)  # DDMMYYYY
    gender: str | None = field(default=None, repr=False)
    eaadhaar: str | None = None  # "Y" / "N"
    reference_key: str | None = field(default=None, repr=False)
    consent_valid_till: int | None = None  # UNIX seconds
    mobile: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    new_account: str | None = None  # "Y" / "N"
    id_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class UserDetails:
    """`/oauth2/1/user`: the signed-in user's profile
    (docs/reference/digilocker-partner-api.md §5)."""

    digilockerid: str | None = None
    name: str | None = field(default=None, repr=False)
    dob: str | None = field(default=None, repr=False)  # DDMMYYYY
    gender: str | None = field(default=None, repr=False)
    eaadhaar: str | None = None  # "Y" / "N"
    reference_key: str | None = field(default=None, repr=False)
    mobile: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    picture: str | None = field(default=None, repr=False)  # base64 image (v2.4)


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    """One entry of `/oauth2/2/files/issued` (docs/reference/digilocker-partner-api.md §6). `date`
    is opaque: ISO in the spec, DD/MM/YYYY in the wild."""

    uri: str
    name: str = ""
    type: str = "file"
    size: str = ""
    date: str = ""
    parent: str = ""
    mime: tuple[str, ...] = ()
    doctype: str = ""
    description: str = ""
    issuerid: str = ""
    issuer: str = ""


@dataclass(frozen=True, slots=True)
class IssuedDocuments:
    """The whole issued list: `{items, resource}`; `resource` is undocumented
    (docs/reference/digilocker-partner-api.md §6)."""

    items: tuple[IssuedDocument, ...]
    resource: str | None = None


@dataclass(frozen=True, slots=True)
class Issuer:
    """One entry of `/oauth2/1/pull/issuers` (docs/reference/digilocker-partner-api.md §11)."""

    orgid: str
    issuerid: str = ""
    name: str = ""
    description: str = ""
    categories: str = ""


@dataclass(frozen=True, slots=True)
class DocTypeInfo:
    """One entry of `/oauth2/1/pull/doctype` (docs/reference/digilocker-partner-api.md §11)."""

    doctype: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One entry of `/oauth2/1/pull/parameters` (docs/reference/digilocker-partner-api.md §11);
    `valuelist` is None when free text."""

    paramname: str
    label: str = ""
    example: str = ""
    valuelist: tuple[str, ...] | None = None


_PROFILE_KEYS = frozenset(
    {"digilockerid", "digilocker_id", "name", "dob", "gender", "eaadhaar", "eaadhar", "mobile"}
)


def parse_token_response(payload: object) -> TokenResponse:
    obj = _object(payload, "token response")
    access_token = _str(obj, "access_token", what="token response")
    if not access_token:
        raise UpstreamMalformedResponse("token response has no access_token")
    return TokenResponse(
        access_token=access_token,
        refresh_token=_str(obj, "refresh_token", what="token response"),
        expires_in=_int(obj, "expires_in", what="token response"),
        scope=_scope(obj.get("scope")),
        token_type=_str(obj, "token_type", what="token response"),
        digilockerid=_str(obj, "digilockerid", "digilocker_id", what="token response"),
        name=_str(obj, "name", what="token response"),
        dob=_dob(obj, what="token response"),
        gender=_str(obj, "gender", what="token response"),
        eaadhaar=_flag(obj, "eaadhaar", "eaadhar", what="token response"),
        reference_key=_str(obj, "reference_key", what="token response"),
        consent_valid_till=_int(obj, "consent_valid_till", what="token response"),
        mobile=_str(obj, "mobile", what="token response"),
        email=_str(obj, "email", what="token response"),
        new_account=_flag(obj, "new_account", what="token response"),
        id_token=_str(obj, "id_token", what="token response"),
    )


def parse_user_details(payload: object) -> UserDetails:
    obj = _object(payload, "user details")
    # The spec nests the profile in `details`, a generator artefact; real answers are flat
    # (docs/reference/digilocker-partner-api.md §5).
    nested = obj.get("details")
    if isinstance(nested, Mapping) and _PROFILE_KEYS.isdisjoint(obj.keys()):
        obj = _object(nested, "user details")
    what = "user details"
    return UserDetails(
        digilockerid=_str(obj, "digilockerid", "digilocker_id", what=what),
        name=_str(obj, "name", what=what),
        dob=_dob(obj, what=what),
        gender=_str(obj, "gender", what=what),
        eaadhaar=_flag(obj, "eaadhaar", "eaadhar", what=what),
        reference_key=_str(obj, "reference_key", what=what),
        mobile=_str(obj, "mobile", what=what),
        email=_str(obj, "email", what=what),
        picture=_str(obj, "picture", what=what),
    )


def parse_issued_documents(payload: object) -> IssuedDocuments:
    # v1 garbles the list shape (docs/reference/digilocker-partner-api.md §6): accept a bare array
    # as well as `{items, resource}`.
    if isinstance(payload, list):
        return IssuedDocuments(tuple(_issued_document(item) for item in payload))
    obj = _unwrap(_object(payload, "issued documents"), "items")
    items = _list(obj, "items", what="issued documents")
    return IssuedDocuments(
        items=tuple(_issued_document(item) for item in items),
        resource=_str(obj, "resource", what="issued documents"),
    )


def parse_account_registered(payload: object) -> bool:
    """`/account/2/verify`'s answer: whether the number has an account. `registered` is the
    string "true" or "false" in the spec; a JSON boolean is read too
    (docs/reference/digilocker-partner-api.md §18)."""
    what = "account verification"
    value = _unwrap(_object(payload, what), "registered").get("registered")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise UpstreamMalformedResponse(f"{what}: registered is missing or not true/false")


def parse_issuers(payload: object) -> list[Issuer]:
    what = "issuer"
    issuers: list[Issuer] = []
    for item in _entries(payload, "issuers"):
        obj = _object(item, what)
        issuers.append(
            Issuer(
                orgid=_required(obj, "orgid", what=what),
                issuerid=_str(obj, "issuerid", what=what) or "",
                name=_str(obj, "name", what=what) or "",
                description=_str(obj, "description", what=what) or "",
                # [S] says `categories`, [V24] says `category`
                # (docs/reference/digilocker-partner-api.md §11).
                categories=_text_or_list(obj, "categories", "category", what=what),
            )
        )
    return issuers


def parse_doctypes(payload: object) -> list[DocTypeInfo]:
    what = "doctype"
    result: list[DocTypeInfo] = []
    for item in _entries(payload, "documents"):
        obj = _object(item, what)
        result.append(
            DocTypeInfo(
                doctype=_required(obj, "doctype", what=what),
                description=_str(obj, "description", what=what) or "",
            )
        )
    return result


def parse_search_parameters(payload: object) -> list[SearchParameter]:
    # [S] shows a bare array, [V24] `{"parameters": [...]}`
    # (docs/reference/digilocker-partner-api.md §11).
    what = "search parameter"
    result: list[SearchParameter] = []
    for item in _entries(payload, "parameters"):
        obj = _object(item, what)
        result.append(
            SearchParameter(
                paramname=_required(obj, "paramname", what=what),
                label=_str(obj, "label", what=what) or "",
                example=_str(obj, "example", what=what) or "",
                valuelist=_valuelist(obj.get("valuelist")),
            )
        )
    return result


def parse_pull_document(payload: object) -> str:
    """The pulled document's URI from `{"uri"}` or the spec's `{"details": {"uri"}}`
    (docs/reference/digilocker-partner-api.md §12)."""
    obj = _unwrap(_object(payload, "pull document"), "uri")
    return _required(obj, "uri", what="pull document")


def parse_error(payload: object) -> tuple[str, str] | None:
    """`(error, error_description)` from DigiLocker's error object, or None if it is not one."""
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    if not isinstance(error, str) or not error:
        return None
    description = payload.get("error_description")
    return error, description if isinstance(description, str) else ""


def _issued_document(item: object) -> IssuedDocument:
    what = "issued document"
    obj = _object(item, what)
    return IssuedDocument(
        uri=_required(obj, "uri", what=what),
        name=_str(obj, "name", what=what) or "",
        type=_str(obj, "type", what=what) or "file",
        size=_str(obj, "size", what=what) or "",
        date=_str(obj, "date", what=what) or "",
        parent=_str(obj, "parent", what=what) or "",
        mime=_mime(obj.get("mime")),
        doctype=_str(obj, "doctype", what=what) or "",
        description=_str(obj, "description", what=what) or "",
        issuerid=_str(obj, "issuerid", what=what) or "",
        issuer=_str(obj, "issuer", what=what) or "",
    )


def _object(payload: object, what: str) -> JsonObject:
    if not isinstance(payload, Mapping):
        raise UpstreamMalformedResponse(f"{what} is not a JSON object")
    return payload


def _unwrap(obj: JsonObject, key: str) -> JsonObject:
    """The `details` wrapper of the spec's sample schemas, when `key` is only found inside."""
    nested = obj.get("details")
    if key not in obj and isinstance(nested, Mapping):
        return nested
    return obj


def _entries(payload: object, key: str) -> Sequence[object]:
    if isinstance(payload, list):
        return payload
    obj = _unwrap(_object(payload, f"{key} list"), key)
    return _list(obj, key, what=f"{key} list")


def _list(obj: JsonObject, key: str, *, what: str) -> Sequence[object]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UpstreamMalformedResponse(f"{what}: {key} is not an array")
    return value


def _str(obj: JsonObject, *names: str, what: str) -> str | None:
    """The first of `names` present and not null, as a string. Numbers are accepted because
    the spec types some string fields as integers."""
    for name in names:
        value = obj.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise UpstreamMalformedResponse(f"{what}: {name} is not a string")
    return None


def _required(obj: JsonObject, name: str, *, what: str) -> str:
    value = _str(obj, name, what=what)
    if not value:
        raise UpstreamMalformedResponse(f"{what}: {name} is missing")
    return value


def _int(obj: JsonObject, name: str, *, what: str) -> int | None:
    # [NY] accepts consent_valid_till as a number or a numeric string
    # (docs/reference/digilocker-partner-api.md §4).
    value = obj.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise UpstreamMalformedResponse(f"{what}: {name} is not an integer")


def _dob(obj: JsonObject, *, what: str) -> str | None:
    # The spec types dob as an integer, which would drop the leading zero of DDMMYYYY
    # (docs/reference/digilocker-partner-api.md §4).
    value = obj.get("dob")
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 99_999_999:
        return f"{value:08d}"
    return _str(obj, "dob", what=what)


def _flag(obj: JsonObject, *names: str, what: str) -> str | None:
    for name in names:
        value = obj.get(name)
        if isinstance(value, bool):
            return "Y" if value else "N"
    return _str(obj, *names, what=what)


def _scope(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item for item in value if item)
    raise UpstreamMalformedResponse("token response: scope is not a string")


def _mime(value: object) -> tuple[str, ...]:
    # An array in v2, a single string in v1 and in one integrator's mock
    # (docs/reference/digilocker-partner-api.md §6).
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise UpstreamMalformedResponse("issued document: mime is not a string or array")


def _valuelist(value: object) -> tuple[str, ...] | None:
    # A comma-separated string or null (docs/reference/digilocker-partner-api.md §11); an array is
    # accepted too.
    if value is None:
        return None
    if isinstance(value, str):
        parts = tuple(part.strip() for part in value.split(",") if part.strip())
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        parts = tuple(item.strip() for item in value if item.strip())
    else:
        raise UpstreamMalformedResponse("search parameter: valuelist is not a string")
    return parts or None


def _text_or_list(obj: JsonObject, *names: str, what: str) -> str:
    for name in names:
        value = obj.get(name)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return ",".join(value)
    return _str(obj, *names, what=what) or ""
