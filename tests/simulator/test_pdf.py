"""Hand-written PDFs: they parse, show the document, are deterministic and can be padded."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from pypdf import PdfReader

from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.model import SimDocument, SimUser
from digilocker_gateway.simulator.pdf import render_pdf
from digilocker_gateway.simulator.users import LARGE_DOCUMENT_BYTES, seed_users


@pytest.fixture(scope="module")
def users() -> list[SimUser]:
    return seed_users(build_catalogue(0))


@pytest.fixture
def complete(users: list[SimUser]) -> SimUser:
    return next(user for user in users if user.scenario == "complete")


def licence_of(user: SimUser) -> SimDocument:
    return next(document for document in user.documents if document.doctype == "DRVLC")


def page_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def test_pdf_parses_and_shows_the_holder_and_document_number(complete: SimUser) -> None:
    for document in complete.documents:
        text = page_text(render_pdf(complete, document))
        assert complete.name in text
        assert document.docid in text


def test_pdf_shows_header_document_issuer_dob_and_fields(complete: SimUser) -> None:
    document = licence_of(complete)
    text = page_text(render_pdf(complete, document))
    assert "DigiLocker" in text
    assert document.name in text
    assert document.issuer_name in text
    assert "15-08-1991" in text
    for label, value in document.fields.items():
        assert label in text
        assert value in text


def test_pdf_is_a_1_4_file_with_xref_offsets_pointing_at_objects(complete: SimUser) -> None:
    data = render_pdf(complete, licence_of(complete))
    assert data.startswith(b"%PDF-1.4\n")
    assert data.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n", data).group(1))  # type: ignore[union-attr]
    assert data[startxref:].startswith(b"xref\n0 ")
    entries = re.findall(rb"(\d{10}) 00000 n \n", data[startxref:])
    assert entries
    for number, offset in enumerate(entries, start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj\n" % number)
    assert b"/BaseFont /Helvetica" in data


def test_same_inputs_render_identical_bytes(users: list[SimUser]) -> None:
    again = seed_users(build_catalogue(0))
    for user, twin in zip(users, again, strict=True):
        for document, copy in zip(user.documents, twin.documents, strict=True):
            assert render_pdf(user, document) == render_pdf(twin, copy)


def test_changed_fields_render_a_different_pdf(complete: SimUser) -> None:
    document = licence_of(complete)
    changed = replace(document, fields={**document.fields, "Vehicle classes": "LMV only"})
    assert render_pdf(complete, changed) != render_pdf(complete, document)
    assert "LMV only" in page_text(render_pdf(complete, changed))


def test_min_pdf_bytes_pads_the_file_and_it_still_parses(complete: SimUser) -> None:
    document = replace(licence_of(complete), min_pdf_bytes=50_000)
    data = render_pdf(complete, document)
    assert len(data) >= 50_000
    assert complete.name in page_text(data)


def test_large_document_pdf_is_over_10_mb_and_parses(users: list[SimUser]) -> None:
    user = next(user for user in users if user.scenario == "large-document")
    document = next(d for d in user.documents if d.min_pdf_bytes)
    data = render_pdf(user, document)
    assert len(data) >= LARGE_DOCUMENT_BYTES
    assert document.docid in page_text(data)
    assert render_pdf(user, document) is data  # built once, then cached


def test_text_outside_latin_1_and_pdf_delimiters_do_not_break_the_file(
    complete: SimUser,
) -> None:
    user = replace(complete, name="Āsha (Test) \\ कुमारी")
    data = render_pdf(user, licence_of(complete))
    text = page_text(data)
    assert "sha (Test) \\" in text
