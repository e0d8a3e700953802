"""DigiLockerClient file downloads: paths, streaming, and the `hmac` check after the last chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from digilocker_gateway.upstream.client import DigiLockerClient, FileStream, PartnerCredentials
from digilocker_gateway.upstream.errors import (
    UpstreamIntegrityError,
    UpstreamMalformedResponse,
    UpstreamResponseError,
    UpstreamTransportError,
)
from digilocker_gateway.upstream.protocol import file_hmac
from digilocker_gateway.upstream.streams import read_whole

BASE_URL = "https://dl.test/public"
CLIENT_SECRET = "synthetic-partner-secret"
ACCESS_TOKEN = "0123456789abcdef0123456789abcdef01234567"
URI = "in.gov.cbse-HSCER-201412345678"


def minimal_pdf(text: bytes) -> bytes:
    """A structurally whole PDF: header, one object, a cross-reference table, startxref."""
    head = b"%PDF-1.7\n1 0 obj\n(" + text + b")\nendobj\n"
    xref = len(head)
    return (
        head
        + b"xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 >>\n"
        + b"startxref\n"
        + str(xref).encode()
        + b"\n%%EOF\n"
    )


BODY = minimal_pdf(b"synthetic marksheet of a synthetic student")
CHUNKS = [BODY[:9], BODY[9:40], BODY[40:]]


async def read_file(
    client: DigiLockerClient, *, kind: str = "file", max_bytes: int = 32 * 1024 * 1024
) -> tuple[bytes, str | None]:
    """A whole document or XML as the gateway reads one: streamed, with every check."""
    opened = (client.stream_xml if kind == "xml" else client.stream_file)(
        ACCESS_TOKEN, URI, max_bytes=max_bytes
    )
    async with opened as stream:
        return await read_whole(stream), stream.content_type


class ChunkStream(httpx.AsyncByteStream):
    """A body delivered in the given chunks, optionally breaking after them."""

    def __init__(self, chunks: list[bytes], fail_with: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail_with = fail_with
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.fail_with is not None:
            raise self.fail_with

    async def aclose(self) -> None:
        self.closed = True


class FileUpstream:
    """Serves scripted file answers in order (the last repeats) and records requests."""

    def __init__(self, *answers: tuple[int, dict[str, str], ChunkStream]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, headers, stream = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return httpx.Response(status, headers=headers, stream=stream)


def pdf_answer(
    *, hmac: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], ChunkStream]:
    all_headers = {"content-type": "application/pdf", **(headers or {})}
    if hmac is not None:
        all_headers["hmac"] = hmac
    return 200, all_headers, ChunkStream(CHUNKS)


def json_answer(status: int, error: str) -> tuple[int, dict[str, str], ChunkStream]:
    body = f'{{"error":"{error}","error_description":"x"}}'.encode()
    return status, {"content-type": "application/json"}, ChunkStream([body])


async def drain(stream: FileStream, *, into: list[bytes]) -> None:
    async for chunk in stream.iter_chunks():
        into.append(chunk)


@asynccontextmanager
async def client_for(upstream: FileUpstream, **settings: Any) -> AsyncIterator[DigiLockerClient]:
    credentials = PartnerCredentials(
        base_url=BASE_URL,
        client_id="SYNTH00001",
        client_secret=CLIENT_SECRET,
        redirect_uri="https://gateway.test/cb",
        **settings,
    )

    async def no_sleep(_seconds: float) -> None:
        return None

    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as http:
        yield DigiLockerClient(http, credentials, sleep=no_sleep)


async def test_stream_file_yields_exact_chunks_when_hmac_matches() -> None:
    upstream = FileUpstream(pdf_answer(hmac=file_hmac(CLIENT_SECRET, BODY)))
    async with client_for(upstream) as client:
        async with client.stream_file(ACCESS_TOKEN, URI) as stream:
            received = [chunk async for chunk in stream.iter_chunks()]
            assert stream.content_type == "application/pdf"
    assert received == CHUNKS
    request = upstream.requests[0]
    assert request.method == "GET"
    assert request.url.raw_path.decode() == f"/public/oauth2/1/file/{URI}"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["accept-encoding"] == "identity"


async def test_content_length_header_is_exposed_as_int() -> None:
    answer = pdf_answer(
        hmac=file_hmac(CLIENT_SECRET, BODY), headers={"content-length": str(len(BODY))}
    )
    async with client_for(FileUpstream(answer)) as client:
        async with client.stream_file(ACCESS_TOKEN, URI) as stream:
            assert stream.content_length == len(BODY)


async def test_uri_characters_outside_unreserved_set_are_percent_encoded() -> None:
    upstream = FileUpstream(pdf_answer(hmac=file_hmac(CLIENT_SECRET, BODY)))
    async with client_for(upstream) as client:
        async with client.stream_file(ACCESS_TOKEN, "in.gov.x-DOC-a/b c?d#e~f") as stream:
            assert [chunk async for chunk in stream.iter_chunks()] == CHUNKS
    raw_path = upstream.requests[0].url.raw_path.decode()
    assert raw_path == "/public/oauth2/1/file/in.gov.x-DOC-a%2Fb%20c%3Fd%23e~f"


async def test_empty_uri_is_refused_before_any_request() -> None:
    upstream = FileUpstream(pdf_answer())
    async with client_for(upstream) as client:
        with pytest.raises(ValueError, match="URI"):
            client.stream_file(ACCESS_TOKEN, "")
    assert upstream.requests == []


async def test_wrong_hmac_raises_integrity_error_after_the_last_chunk() -> None:
    upstream = FileUpstream(pdf_answer(hmac=file_hmac("another-secret", BODY)))
    received: list[bytes] = []
    async with client_for(upstream) as client:
        async with client.stream_file(ACCESS_TOKEN, URI) as stream:
            with pytest.raises(UpstreamIntegrityError) as caught:
                await drain(stream, into=received)
    assert received == CHUNKS
    assert BODY.decode() not in str(caught.value)


async def test_missing_hmac_is_refused_unless_the_requirement_is_off() -> None:
    async with client_for(FileUpstream(pdf_answer())) as client:
        with pytest.raises(UpstreamIntegrityError, match="missing"):
            await read_file(client)
    async with client_for(FileUpstream(pdf_answer()), require_hmac=False) as client:
        body, _ = await read_file(client)
    assert body == BODY


async def test_disabled_verification_ignores_a_wrong_hmac() -> None:
    upstream = FileUpstream(pdf_answer(hmac="d3Jvbmc="))
    async with client_for(upstream, verify_hmac=False, require_hmac=True) as client:
        body, content_type = await read_file(client)
    assert (body, content_type) == (BODY, "application/pdf")


async def test_stream_xml_uses_the_xml_path() -> None:
    xml = [b"<Certificate>synthetic</Certificate>"]
    answer = (200, {"content-type": "application/xml", "hmac": file_hmac(CLIENT_SECRET, xml[0])})
    upstream = FileUpstream((*answer, ChunkStream(xml)))
    async with client_for(upstream) as client:
        body, content_type = await read_file(client, kind="xml")
    assert upstream.requests[0].url.raw_path.decode() == f"/public/oauth2/1/xml/{URI}"
    assert (body, content_type) == (xml[0], "application/xml")


@pytest.mark.parametrize(
    ("settings", "path"),
    [({}, "/public/oauth2/3/xml/eaadhaar"), ({"eaadhaar_path": "/oauth2/2/xml/eaadhaar"}, None)],
)
async def test_fetch_eaadhaar_uses_configured_path_and_checks_hmac(
    settings: dict[str, str], path: str | None
) -> None:
    xml = b'<KycRes ret="Y"><UidData uid="xxxxxxxx0000"/></KycRes>'
    answer = (200, {"content-type": "application/xml", "hmac": file_hmac(CLIENT_SECRET, xml)})
    upstream = FileUpstream((*answer, ChunkStream([xml])))
    async with client_for(upstream, **settings) as client:
        body, _ = await client.fetch_eaadhaar(ACCESS_TOKEN)
    expected_path = path or "/public" + settings["eaadhaar_path"]
    assert upstream.requests[0].url.path == expected_path
    assert body == xml


async def test_fetch_eaadhaar_with_tampered_body_raises_integrity_error() -> None:
    xml = b"<KycRes/>"
    answer = (200, {"hmac": file_hmac(CLIENT_SECRET, xml)}, ChunkStream([xml[:-2] + b"X/>"]))
    async with client_for(FileUpstream(answer)) as client:
        with pytest.raises(UpstreamIntegrityError):
            await client.fetch_eaadhaar(ACCESS_TOKEN)


async def test_file_error_answer_raises_response_error_when_opening() -> None:
    upstream = FileUpstream(json_answer(404, "invalid_uri"))
    async with client_for(upstream) as client:
        with pytest.raises(UpstreamResponseError) as caught:
            async with client.stream_file(ACCESS_TOKEN, URI):
                pytest.fail("an error answer must not open a stream")
    assert (caught.value.status, caught.value.error) == (404, "invalid_uri")
    assert len(upstream.requests) == 1


async def test_file_5xx_is_retried_and_the_failed_answer_closed() -> None:
    failed = json_answer(530, "repository_service_unresponsive")
    upstream = FileUpstream(failed, pdf_answer(hmac=file_hmac(CLIENT_SECRET, BODY)))
    async with client_for(upstream) as client:
        body, _ = await read_file(client)
    assert body == BODY
    assert len(upstream.requests) == 2
    assert failed[2].closed


async def test_connection_dropped_mid_body_raises_transport_error() -> None:
    broken = ChunkStream(CHUNKS[:1], fail_with=httpx.RemoteProtocolError("peer closed"))
    upstream = FileUpstream((200, {"content-type": "application/pdf"}, broken))
    async with client_for(upstream) as client:
        async with client.stream_file(ACCESS_TOKEN, URI) as stream:
            with pytest.raises(UpstreamTransportError):
                _ = [chunk async for chunk in stream.iter_chunks()]
    assert broken.closed


async def test_response_is_closed_when_the_block_exits_early() -> None:
    answer = pdf_answer()
    async with client_for(FileUpstream(answer)) as client:
        async with client.stream_file(ACCESS_TOKEN, URI) as stream:
            assert stream.content_type == "application/pdf"
    assert answer[2].closed


async def test_a_file_stream_can_be_read_only_once() -> None:
    async with client_for(FileUpstream(pdf_answer(hmac=file_hmac(CLIENT_SECRET, BODY)))) as client:
        async with client.stream_file(ACCESS_TOKEN, URI) as stream:
            _ = [chunk async for chunk in stream.iter_chunks()]
            with pytest.raises(RuntimeError, match="once"):
                _ = [chunk async for chunk in stream.iter_chunks()]


@pytest.mark.parametrize("declared", [True, False])
async def test_file_larger_than_max_bytes_is_refused(declared: bool) -> None:
    headers = {"content-length": str(len(BODY))} if declared else {}
    async with client_for(FileUpstream(pdf_answer(headers=headers))) as client:
        with pytest.raises(UpstreamMalformedResponse, match="larger"):
            await read_file(client, max_bytes=len(BODY) - 1)


async def test_compressed_file_answer_is_refused_as_malformed() -> None:
    answer = pdf_answer(hmac=file_hmac(CLIENT_SECRET, BODY), headers={"content-encoding": "gzip"})
    async with client_for(FileUpstream(answer)) as client:
        with pytest.raises(UpstreamMalformedResponse, match="content-encoding"):
            await read_file(client)
    assert answer[2].closed
