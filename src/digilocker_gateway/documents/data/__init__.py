"""Document data: an issued document's certificate XML read into typed JSON (`data` beside
`fileUrl`), and its identity match against the request's `expected` (docs/document-data.md)."""

from __future__ import annotations

from digilocker_gateway.documents.data.certificate import (
    DocumentSource,
    data_from_xml,
    data_without_xml,
    holder_of,
)
from digilocker_gateway.documents.data.parsers import PARSERS

__all__ = ["PARSERS", "DocumentSource", "data_from_xml", "data_without_xml", "holder_of"]
