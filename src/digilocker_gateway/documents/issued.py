"""The user's issued documents (docs/journey-options.md §3): DigiLocker's issued list, cut to
the doc types the user consented to share, each named as the catalogue names it, so that a
caller can fetch one by its `uri` instead of guessing its parameters."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import CatalogueEntry
from digilocker_gateway.error_mapping import Call, gateway_error_for
from digilocker_gateway.errors import ExtensionNotAllowed
from digilocker_gateway.requests.files import CONTENT_TYPES
from digilocker_gateway.requests.tokens import after_upstream_failure, live_grant
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.errors import UpstreamError
from digilocker_gateway.upstream.protocol import IssuedDocument, consented_doctypes

logger = logging.getLogger("digilocker_gateway.documents")

_FORMAT_OF = {content_type: name for name, content_type in CONTENT_TYPES.items()}


@dataclass(frozen=True, slots=True)
class ListedDocument:
    document: IssuedDocument
    org_id: str | None  # None: the catalogue has no entry for this issuer and doc type
    org_name: str
    formats: tuple[str, ...]

    @property
    def fetchable(self) -> bool:
        """Fetch document takes it by `uri` now, without parameters: it is in the catalogue
        and DigiLocker has it as a PDF or an XML."""
        return self.org_id is not None and bool(self.formats)


def formats_of(document: IssuedDocument) -> tuple[str, ...]:
    return tuple(_FORMAT_OF[mime] for mime in document.mime if mime in _FORMAT_OF)


async def _catalogue_names(
    session: AsyncSession, documents: list[IssuedDocument]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(issuerid, doctype) -> (orgId, orgName), from the stored catalogue."""
    doc_types = {document.doctype for document in documents}
    if not doc_types:
        return {}
    rows = await session.execute(
        select(
            CatalogueEntry.issuer_id,
            CatalogueEntry.doc_type,
            CatalogueEntry.org_id,
            CatalogueEntry.org_name,
        ).where(CatalogueEntry.doc_type.in_(doc_types))
    )
    return {(issuer, doc_type): (org, name) for issuer, doc_type, org, name in rows}


def consented(documents: list[IssuedDocument], scope: str) -> list[IssuedDocument]:
    """Only what the user consented to share (the `partners.<DOCTYPE>` entries of the grant's
    scope, docs/reference/digilocker-partner-api.md §3)."""
    allowed = set(consented_doctypes(scope))
    return [document for document in documents if document.doctype in allowed]


async def list_issued(runtime: Runtime, tenant: Tenant, request_id: str) -> list[ListedDocument]:
    if not tenant.allows("issuedDocuments"):
        raise ExtensionNotAllowed()
    grant = await live_grant(runtime, tenant, request_id)
    try:
        issued = await runtime.upstream(tenant).issued_documents(grant.access_token)
    except UpstreamError as exc:
        logger.info("issued list failed upstream: %s", type(exc).__name__)
        await after_upstream_failure(runtime, tenant, request_id, exc, grant)
        raise gateway_error_for(exc, Call.DOCUMENT) from None
    shared = consented(issued, grant.scope)
    async with runtime.reading() as session:
        names = await _catalogue_names(session, shared)
    listed: list[ListedDocument] = []
    for document in shared:
        org_id, org_name = names.get((document.issuerid, document.doctype), (None, ""))
        listed.append(
            ListedDocument(document, org_id, org_name or document.issuer, formats_of(document))
        )
    return listed
