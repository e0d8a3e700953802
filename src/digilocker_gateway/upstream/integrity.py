"""Is a downloaded document whole? Checks that run chunk by chunk as a file streams in, so a
truncated or garbled answer is refused even when DigiLocker sent no `hmac` to check it by
(docs/reference/aadhaar-xml.md §5).

- A PDF must start with its header, end with `%%EOF`, and its last `startxref` must point at
  a cross-reference table (`xref`) or stream (`N G obj`) inside the file.
- An XML document must parse (lxml's incremental parser, no DTD, no entities, no network).

Both keep bounded state: a PDF's first and last bytes, and the parser's own.
"""

from __future__ import annotations

import re
from typing import Protocol

from lxml import etree

# Where the PDF header may sit (some files carry bytes before it) and how much of a file's
# beginning and end are kept to find the cross-reference section `startxref` points at.
_PDF_HEADER_WITHIN = 1024
_PDF_HEAD_KEPT = 64 * 1024
_PDF_TAIL_KEPT = 1024 * 1024
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_XREF_AT = re.compile(rb"\s*(xref\b|\d+\s+\d+\s+obj\b)")


class IncompleteDocument(Exception):
    """The bytes are not a whole document of the kind they claim to be."""


class Check(Protocol):
    def update(self, chunk: bytes) -> None: ...

    def finish(self) -> None:
        """Raise IncompleteDocument unless everything fed so far is a whole document."""
        ...


class PdfCheck:
    __slots__ = ("_head", "_size", "_tail")

    def __init__(self) -> None:
        self._head = bytearray()
        self._tail = bytearray()
        self._size = 0

    def update(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if len(self._head) < _PDF_HEAD_KEPT:
            self._head += chunk[: _PDF_HEAD_KEPT - len(self._head)]
        self._tail += chunk
        if len(self._tail) > _PDF_TAIL_KEPT:
            del self._tail[: len(self._tail) - _PDF_TAIL_KEPT]

    def finish(self) -> None:
        if b"%PDF-" not in self._head[:_PDF_HEADER_WITHIN]:
            raise IncompleteDocument("not a PDF: no %PDF- header")
        end = _STARTXREF.search(bytes(self._tail[-2048:]))
        if end is None:
            raise IncompleteDocument("the PDF does not end with startxref and %%EOF")
        offset = int(end.group(1))
        if offset >= self._size:
            raise IncompleteDocument("the PDF's startxref points past its end")
        tail_start = self._size - len(self._tail)
        if offset < len(self._head):
            at = bytes(self._head[offset : offset + 64])
        elif offset >= tail_start:
            at = bytes(self._tail[offset - tail_start : offset - tail_start + 64])
        else:
            return  # a cross-reference section in the middle of a large file: not kept
        if _XREF_AT.match(at) is None:
            raise IncompleteDocument("the PDF's startxref does not point at a cross-reference")


class XmlCheck:
    __slots__ = ("_parser",)

    def __init__(self) -> None:
        self._parser = etree.XMLPullParser(
            events=(),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )

    def update(self, chunk: bytes) -> None:
        try:
            self._parser.feed(chunk)
        except etree.XMLSyntaxError:
            raise IncompleteDocument("the XML does not parse") from None

    def finish(self) -> None:
        try:
            root = self._parser.close()
        except etree.XMLSyntaxError:
            raise IncompleteDocument("the XML does not parse") from None
        if root.getroottree().docinfo.doctype:
            raise IncompleteDocument("the XML carries a DOCTYPE")


def check_for(operation: str, content_type: str | None) -> Check | None:
    """The completeness check for a file answer: XML for certificate XML and e-Aadhaar, PDF
    for a file served as PDF; none for other files (images a user uploaded, say)."""
    if operation in ("xml", "eaadhaar"):
        return XmlCheck()
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/pdf":
        return PdfCheck()
    if media_type in ("application/xml", "text/xml"):
        return XmlCheck()
    return None
