"""Fetch a document: check the body against the catalogue, find the document in the user's
issued list or pull it, download it (checking DigiLocker's `hmac`), store it encrypted, and hand
out a signed `fileUrl`.

DigiLocker's errors map to Setu's codes through the one table in `error_mapping.py`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from digilocker_gateway.documents.catalogue import CatalogueDocument, lookup
from digilocker_gateway.documents.data.service import DocumentExtras
from digilocker_gateway.documents.identifiers import ParameterCheck, check_parameters
from digilocker_gateway.documents.schemas import DocumentFetch
from digilocker_gateway.error_mapping import Call, gateway_error_for
from digilocker_gateway.errors import (
    ConsentNotGiven,
    CustomerDetailMismatch,
    InvalidPayload,
    InvalidUri,
    UpstreamServerError,
    UserConsentNotGiven,
)
from digilocker_gateway.requests.details import fill_pending_details
from digilocker_gateway.requests.expected import open_expected
from digilocker_gateway.requests.files import (
    CONTENT_TYPES,
    IssuedFileUrl,
    blob_key_for,
    file_valid_upto,
    keep_file,
)
from digilocker_gateway.requests.service import get_request
from digilocker_gateway.requests.tokens import after_upstream_failure, live_grant
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.client import DigiLockerClient
from digilocker_gateway.upstream.errors import (
    UpstreamError,
    UpstreamResponseError,
)
from digilocker_gateway.upstream.protocol import IssuedDocument, consented_doctypes

logger = logging.getLogger("digilocker_gateway.documents")

# Beyond what the catalogue lists for every document of a pair (the PDF), a caller may ask for
# a format that only some documents have: XML, when the document's issued-list `mime` says so
# (docs/reference/digilocker-partner-api.md §9). Whether it has it is checked once the document
# is found; one without answers 400 invalid_payload, "not available as xml".
PER_DOCUMENT_FORMATS = frozenset({"xml"})


def validate_against_catalogue(body: DocumentFetch, entry: CatalogueDocument | None) -> None:
    if not body.consent:
        raise ConsentNotGiven()
    if entry is None:
        raise InvalidPayload(
            f"No document {body.docType} from orgId {body.orgId} in the catalogue."
        )
    if body.format not in entry.formats and body.format not in PER_DOCUMENT_FORMATS:
        raise InvalidPayload(f"format must be one of {', '.join(entry.formats)} for this document.")
    if body.uri is not None:
        # A document from the user's issued list needs no parameters (docs/journey-options.md §3).
        if body.parameters:
            raise InvalidPayload("uri: give parameters or uri, not both.")
        return
    expected = [name for name, _ in entry.parameters]
    given: dict[str, str] = {}
    for parameter in body.parameters:
        if parameter.name in given:
            raise InvalidPayload(f"Parameter {parameter.name} is given twice.")
        given[parameter.name] = parameter.value
    unknown = sorted(set(given) - set(expected))
    if unknown:
        raise InvalidPayload(f"Unknown parameter(s): {', '.join(unknown)}.")
    missing = [name for name in expected if not given.get(name, "").strip()]
    if missing:
        raise InvalidPayload(f"Missing parameter(s): {', '.join(missing)}.")


def _find_issued(
    issued: list[IssuedDocument], entry: CatalogueDocument, uri: str | None = None
) -> IssuedDocument | None:
    for document in issued:
        if uri is not None and document.uri == uri:
            return document
        if (
            uri is None
            and document.doctype == entry.doc_type
            and (document.issuerid == entry.issuer_id or not entry.issuer_id)
        ):
            return document
    return None


@dataclass(frozen=True, slots=True)
class FetchedFile:
    file: IssuedFileUrl
    parameters_verified: bool
    # Gateway extensions (documents/data/service.py): None unless asked for.
    data: dict[str, Any] | None = None
    match: dict[str, Any] | None = None


async def fetch_document(
    runtime: Runtime, tenant: Tenant, request_id: str, body: DocumentFetch
) -> FetchedFile:
    now = runtime.clock.now()
    async with runtime.reading() as session:
        request = await get_request(session, tenant=tenant, request_id=request_id, now=now)
        entry = await lookup(session, body.orgId, body.docType)
    validate_against_catalogue(body, entry)
    request_valid_upto = request.valid_upto
    details_pending = request.details_pending
    expected = open_expected(runtime.sealed, request)
    assert entry is not None
    extras = DocumentExtras(runtime, tenant, entry, with_data=body.withData, expected=expected)
    grant = await live_grant(runtime, tenant, request_id, request)
    upstream = runtime.upstream(tenant)
    try:
        content_type = CONTENT_TYPES[body.format]
        if body.uri is not None:
            located = await _locate_listed(
                upstream, grant.access_token, entry, body.uri, grant.scope
            )
        else:
            located = await _locate(upstream, grant.access_token, entry, body)
        if located.mime and content_type not in located.mime:
            raise InvalidPayload(f"This document is not available as {body.format}.")
        await extras.before_download(
            upstream,
            grant.access_token,
            uri=located.uri,
            mime=located.mime,
            file_format=body.format,
        )
        stream = upstream.stream_xml if body.format == "xml" else upstream.stream_file
        blob_key = blob_key_for(request_id)
        async with stream(
            grant.access_token, located.uri, max_bytes=runtime.settings.max_document_bytes
        ) as download:
            info = await runtime.blobs.put(
                blob_key, extras.watch(download.iter_chunks()), content_type=content_type
            )
    except UpstreamError as exc:
        logger.info("fetch document failed upstream: %s", type(exc).__name__)
        await after_upstream_failure(runtime, tenant, request_id, exc, grant)
        raise gateway_error_for(exc, Call.DOCUMENT) from None
    try:
        data, match = await extras.answer(located.uri)
    except BaseException:
        await runtime.blobs.delete(blob_key)  # a refused number keeps nothing
        raise
    kept = await keep_file(
        runtime,
        tenant,
        request_id=request_id,
        blob_key=blob_key,
        kind="document",
        content_type=content_type,
        size=info.size,
        doc_type=entry.doc_type,
        org_id=entry.org_id,
        valid_upto=file_valid_upto(runtime, request_valid_upto),
        filename=f"{entry.doc_type}-{entry.org_id}.{body.format}",
    )
    if details_pending:
        await fill_pending_details(runtime, tenant, request, grant)
    return FetchedFile(kept, located.parameters_verified, data, match)


@dataclass(frozen=True, slots=True)
class Located:
    uri: str
    mime: tuple[str, ...]
    # The caller's parameters were checked against the document: by the issuer (a pull), or
    # against the number of a document the user already held (documents/identifiers.py).
    parameters_verified: bool


async def _locate_listed(
    upstream: DigiLockerClient, access_token: str, entry: CatalogueDocument, uri: str, scope: str
) -> Located:
    """A document the caller chose from the user's issued list (documents/issued.py): it must
    still be there, be the docType and orgId named, and be one the user consented to share."""
    document = next(
        (d for d in await upstream.issued_documents(access_token) if d.uri == uri), None
    )
    if document is None:
        raise InvalidUri("The user's DigiLocker has no document with this uri.")
    if document.doctype != entry.doc_type or (
        entry.issuer_id and document.issuerid != entry.issuer_id
    ):
        raise InvalidPayload(f"uri: not a {entry.doc_type} document from orgId {entry.org_id}.")
    if document.doctype not in consented_doctypes(scope):
        raise UserConsentNotGiven()
    # No parameters were given, so none were checked: the document is the user's own.
    return Located(document.uri, document.mime, parameters_verified=False)


async def _locate(
    upstream: DigiLockerClient, access_token: str, entry: CatalogueDocument, body: DocumentFetch
) -> Located:
    """The document: from the issued list (its parameters checked), else pulled from the
    issuer. A held document whose number differs from the parameters is refused."""
    parameters = {p.name: p.value for p in body.parameters}
    document = _find_issued(await upstream.issued_documents(access_token), entry)
    if document is not None:
        check = check_parameters(entry.doc_type, document.uri, parameters)
        if check is ParameterCheck.MISMATCH:
            raise CustomerDetailMismatch()
        return Located(document.uri, document.mime, check is ParameterCheck.MATCH)
    try:
        uri: str | None = await upstream.pull_document(
            access_token, entry.org_id, entry.doc_type, parameters
        )
    except UpstreamResponseError as exc:
        if exc.error != "uri_exists":
            raise
        uri = None  # already issued after all: the issued list has it now
    document = _find_issued(await upstream.issued_documents(access_token), entry, uri)
    if document is not None:
        return Located(document.uri, document.mime, parameters_verified=True)
    if uri is None:
        raise UpstreamServerError()
    return Located(uri, (), parameters_verified=True)
