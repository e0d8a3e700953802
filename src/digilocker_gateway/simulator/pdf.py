"""Hand-written PDF 1.4 files for the simulator's documents (`/1/file/{uri}`,
docs/reference/digilocker-partner-api.md §8).

One A4 page with a DigiLocker-like header, the document and issuer names, the holder's name
and date of birth, the document number and the document's synthetic fields, in the standard
Helvetica fonts (no embedding needed). The file is built byte by byte with a correct xref
table so any reader opens it. The large-document scenario pads the file with an extra,
unreferenced stream object of deterministic filler: readers skip it and the file stays valid.
"""

from __future__ import annotations

import functools
import hashlib
import textwrap

from digilocker_gateway.simulator.model import SimDocument, SimUser

_PAGE_WIDTH = 595
_PAGE_HEIGHT = 842
_LEFT = 48
_VALUE_X = 230
_VALUE_WIDTH_CHARS = 58
_LINE = 18
_FOOTER = (
    "Synthetic test document produced by the DigiLocker simulator of digilocker-gateway.",
    "It describes no real person and is not valid for any purpose.",
)

_PdfKey = tuple[str, str, str, str, str, str, tuple[tuple[str, str], ...], int]


def _pdf_string(text: str) -> bytes:
    # Type1 base fonts with WinAnsiEncoding take cp1252 bytes; anything else becomes "?".
    raw = " ".join(text.split()).encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _text(font: str, size: int, x: int, y: int, text: str) -> bytes:
    return b"BT /%s %d Tf %d %d Td %s Tj ET\n" % (
        font.encode(),
        size,
        x,
        y,
        _pdf_string(text),
    )


def _display_date(ddmmyyyy: str) -> str:
    if len(ddmmyyyy) == 8 and ddmmyyyy.isdigit():
        return f"{ddmmyyyy[:2]}-{ddmmyyyy[2:4]}-{ddmmyyyy[4:]}"
    return ddmmyyyy


def _content(key: _PdfKey) -> bytes:
    name, dob, uri, title, issuer_name, docid, fields, _ = key
    out = bytearray()
    # Header band in DigiLocker's indigo, white lettering.
    out += b"q 0.247 0.216 0.569 rg 0 %d %d 74 re f Q\n" % (_PAGE_HEIGHT - 74, _PAGE_WIDTH)
    out += b"1 1 1 rg\n"
    out += _text("F2", 24, _LEFT, _PAGE_HEIGHT - 42, "DigiLocker")
    out += _text("F1", 10, _LEFT, _PAGE_HEIGHT - 60, "Issued Documents - simulator copy")
    out += b"0 0 0 rg\n"
    y = _PAGE_HEIGHT - 120
    out += _text("F2", 18, _LEFT, y, title)
    y -= 22
    out += _text("F1", 11, _LEFT, y, f"Issued by: {issuer_name}")
    y -= 14
    out += b"0.6 0.6 0.6 RG 0.8 w %d %d m %d %d l S\n" % (_LEFT, y, _PAGE_WIDTH - _LEFT, y)
    y -= 26
    rows = [
        ("Name", name),
        ("Date of birth", _display_date(dob)),
        ("Document number", docid),
        ("DigiLocker URI", uri),
        *fields,
    ]
    for label, value in rows:
        out += _text("F2", 11, _LEFT, y, label)
        for line in textwrap.wrap(value, _VALUE_WIDTH_CHARS) or [""]:
            out += _text("F1", 11, _VALUE_X, y, line)
            y -= _LINE
        if y < 90:
            break  # one page is enough for a synthetic document
    out += b"0.4 0.4 0.4 rg\n"
    for offset, line in enumerate(_FOOTER):
        out += _text("F1", 8, _LEFT, 50 - 11 * offset, line)
    return bytes(out)


def _stream(body: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"


def _filler(seed: bytes, size: int) -> bytes:
    # Printable hex lines: deterministic, cheap to build at 10 MB, and harmless in any viewer.
    block = b"".join(
        hashlib.sha256(seed + counter.to_bytes(4, "big")).hexdigest().encode() + b"\n"
        for counter in range(64)
    )
    return (block * (size // len(block) + 1))[:size]


def _assemble(objects: list[bytes], file_id: bytes) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        file_id,
        file_id,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


@functools.lru_cache(maxsize=32)
def _render(key: _PdfKey) -> bytes:
    title = key[3]
    content = _content(key)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font "
        b"<< /F1 6 0 R /F2 7 0 R >> >> /Contents 4 0 R >>" % (_PAGE_WIDTH, _PAGE_HEIGHT),
        _stream(content),
        b"<< /Title %s /Producer (digilocker-gateway simulator) >>" % _pdf_string(title),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    file_id = hashlib.md5(repr(key).encode(), usedforsecurity=False).hexdigest().encode()
    document = _assemble(objects, file_id)
    minimum = key[7]
    if len(document) < minimum:
        # The padding object adds its own framing and xref entry, so `minimum - len` is enough.
        objects.append(_stream(_filler(file_id, minimum - len(document))))
        document = _assemble(objects, file_id)
    return document


def render_pdf(user: SimUser, document: SimDocument) -> bytes:
    """The document as a one-page PDF, at least `document.min_pdf_bytes` long; deterministic."""
    # Cached on plain values, not on the (mutable) user and document objects.
    key: _PdfKey = (
        user.name,
        user.dob,
        document.uri,
        document.name,
        document.issuer_name,
        document.docid,
        tuple(document.fields.items()),
        document.min_pdf_bytes,
    )
    return _render(key)
