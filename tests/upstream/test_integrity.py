"""Whole-document checks on downloads, Content-Length, and the call's deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from digilocker_gateway.kit import deadline
from digilocker_gateway.upstream.errors import UpstreamMalformedResponse, UpstreamTimeout
from digilocker_gateway.upstream.integrity import IncompleteDocument, PdfCheck, XmlCheck
from digilocker_gateway.upstream.protocol import file_hmac
from tests.upstream.test_client_files import (
    BODY,
    CLIENT_SECRET,
    ChunkStream,
    FileUpstream,
    client_for,
    minimal_pdf,
    read_file,
)

XML = b'<?xml version="1.0"?><Certificate number="SYN1"><IssuedTo/></Certificate>'


def fed(check: PdfCheck | XmlCheck, data: bytes, piece: int = 7) -> None:
    for start in range(0, len(data), piece):
        check.update(data[start : start + piece])
    check.finish()


def test_a_whole_pdf_passes_in_any_chunking() -> None:
    for piece in (1, 5, 64, len(BODY)):
        fed(PdfCheck(), BODY, piece)


def test_every_truncation_of_a_pdf_is_refused() -> None:
    for length in range(len(BODY) - 1):
        with pytest.raises(IncompleteDocument):
            fed(PdfCheck(), BODY[:length])


@pytest.mark.parametrize(
    "broken",
    [
        BODY.replace(b"%PDF-1.7", b"%XYZ-1.7"),
        BODY.replace(b"startxref\n", b"startxref\n9"),  # points past the end
        BODY.replace(b"xref\n0 2", b"xrfe\n0 2"),  # points at no cross-reference
        BODY + b"trailing garbage after the end",
    ],
)
def test_a_pdf_with_a_broken_structure_is_refused(broken: bytes) -> None:
    with pytest.raises(IncompleteDocument):
        fed(PdfCheck(), broken)


def test_a_pdf_with_a_cross_reference_stream_passes() -> None:
    head = b"%PDF-1.7\n"
    body = head + b"7 0 obj\n<< /Type /XRef >>\nstream\n\nendstream\nendobj\n"
    fed(PdfCheck(), body + b"startxref\n" + str(len(head)).encode() + b"\n%%EOF")


def test_whole_xml_passes_and_truncated_or_doctype_xml_is_refused() -> None:
    fed(XmlCheck(), XML)
    for length in (1, len(XML) // 2, len(XML) - 1):
        with pytest.raises(IncompleteDocument):
            fed(XmlCheck(), XML[:length])
    with pytest.raises(IncompleteDocument, match="DOCTYPE"):
        fed(XmlCheck(), b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


@pytest.mark.parametrize("declared", [len(BODY) - 10, len(BODY) + 10])
async def test_a_body_not_as_long_as_content_length_is_refused(declared: int) -> None:
    headers = {
        "content-type": "application/pdf",
        "hmac": file_hmac(CLIENT_SECRET, BODY),
        "content-length": str(declared),
    }
    async with client_for(FileUpstream((200, headers, ChunkStream([BODY])))) as client:
        with pytest.raises(UpstreamMalformedResponse, match="Content-Length"):
            await read_file(client)


async def test_truncated_pdf_with_its_own_hmac_is_refused() -> None:
    half = BODY[: len(BODY) // 2]
    headers = {"content-type": "application/pdf", "hmac": file_hmac(CLIENT_SECRET, half)}
    async with client_for(FileUpstream((200, headers, ChunkStream([half])))) as client:
        with pytest.raises(UpstreamMalformedResponse):
            await read_file(client)


class Stalling(httpx.AsyncByteStream):
    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        await asyncio.sleep(30)
        yield b""


async def test_a_download_that_stalls_ends_at_the_calls_deadline() -> None:
    headers = {"content-type": "application/pdf", "hmac": file_hmac(CLIENT_SECRET, BODY)}
    loop = asyncio.get_running_loop()
    stalling = Stalling(BODY[:10])
    async with client_for(FileUpstream((200, headers, stalling))) as client:  # type: ignore[arg-type]
        started = loop.time()
        with deadline.within(0.2), pytest.raises(UpstreamTimeout):
            await read_file(client)
    assert loop.time() - started < 2


async def test_retries_stop_at_the_calls_deadline() -> None:
    calls = 0

    async def always_530(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(530, json={"error": "repository_service_unresponsive"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(always_530)) as http:
        from digilocker_gateway.upstream.client import DigiLockerClient, PartnerCredentials

        client = DigiLockerClient(
            http,
            PartnerCredentials(
                base_url="https://dl.test/public",
                client_id="SYNTH00001",
                client_secret=CLIENT_SECRET,
                redirect_uri="https://gateway.test/cb",
                max_retries=50,
                backoff_seconds=0.05,
            ),
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        with deadline.within(0.5), pytest.raises(Exception, match="530"):
            await client.issued_documents("token")
        assert loop.time() - started < 0.6
    assert 2 <= calls < 50


def test_minimal_pdf_helper_builds_a_whole_pdf() -> None:
    fed(PdfCheck(), minimal_pdf(b"x"))
