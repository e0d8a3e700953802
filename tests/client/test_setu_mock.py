"""The blocking client against Setu's hosts, through an httpx MockTransport that replays the
answers Setu documents (docs/reference/setu-api.md §3, §4, §8) byte for byte: the client reads
Setu's shapes, sends Setu's headers, and refuses the gateway's extensions before sending."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from digilocker_gateway.client import (
    AsyncDigiLockerClient,
    CatalogueCache,
    DigiLockerClient,
    ExtensionNotAllowedError,
    GatewayOnlyError,
    InvalidRequestError,
    IssuedDocument,
    NetworkError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    UpstreamError,
)

SANDBOX = "https://dg-sandbox.setu.co"
REQUEST_ID = "6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CREATE = (
    b'{"id": "6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "status": "unauthenticated",\n'
    b' "url": "https://kyc.example.com/digilocker/start/abc", '
    b'"validUpto": "2025-01-03T10:11:12+05:30"}'
)
STATUS = (
    b'{"id": "6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "status": "authenticated", '
    b'"url": "https://kyc.example.com/digilocker/start/abc",\n'
    b' "validUpto": "2025-01-03T10:11:12+05:30",\n'
    b' "digilockerUserDetails": {"digilockerId": "00000000-0000-4000-8000-000000000001",\n'
    b'                           "email": "kavya.demo@example.com", "phoneNumber": "5000000001"},\n'
    b' "traceId": "3f0c1e52a9b84d7e"}'
)
CATALOGUE = (
    b'{"documents": [{"availableFormats": ["pdf"], "description": "Trade Licence", '
    b'"docType": "TRLIC",\n'
    b'                "orgId": "900001", "orgName": "Sample Municipal Corporation",\n'
    b'                "parameters": [{"name": "licence_no", "description": "Licence number"},\n'
    b'                               {"name": "ward", "description": "Ward"}]}]}'
)
DOCUMENT = (
    b'{"fileUrl": "https://files.setu.example/AQJrMQ", "validUpto": "2025-01-02T11:11:12+05:30"}'
)
AADHAAR = (
    b'{"aadhaar": {\n'
    b'   "address": {"careOf": "D/O: Suresh Demorao", "country": "India", '
    b'"district": "Sample District",\n'
    b'               "house": "7-B", "landmark": "Opp. Sample School", '
    b'"locality": "Fixture Layout",\n'
    b'               "pin": "560099", "postOffice": "Mocknagar PO", "state": "Karnataka",\n'
    b'               "street": "Test Cross Road", "subDistrict": "Mocknagar East", '
    b'"vtc": "Mocknagar"},\n'
    b'   "dateOfBirth": "04-11-1988", "email": "", "gender": "F",\n'
    b'   "generatedAt": "2025-01-02T10:11:12.345+05:30", "maskedNumber": "xxxx-xxxx-9012",\n'
    b'   "name": "Kavya Demorao", "phone": "", "photo": "/9j/4AAQSkZJRgABAQ",\n'
    b'   "verified": {"email": false, "phone": false, "signature": true},\n'
    b'   "xml": {"fileUrl": "https://files.setu.example/AQJrMQ", "shareCode": "",\n'
    b'           "validUntil": "2025-01-02T11:11:12+05:30"}},\n'
    b' "id": "6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "status": "complete"}'
)
REVOKE = b'{"success": true}'
NOT_FOUND = (
    b'{"error": {"code": "request_not_found", "detail": "No such DigiLocker request (it may '
    b'have expired).", "traceId": "3f0c1e52a9b84d7e"}}'
)

ANSWERS: dict[tuple[str, str], tuple[int, bytes]] = {
    ("POST", "/api/digilocker"): (201, CREATE),  # Setu clients see 200 or 201 (§2)
    ("GET", f"/api/digilocker/{REQUEST_ID}/status"): (200, STATUS),
    ("GET", "/api/digilocker/documents"): (200, CATALOGUE),
    ("POST", f"/api/digilocker/{REQUEST_ID}/document"): (200, DOCUMENT),
    ("GET", f"/api/digilocker/{REQUEST_ID}/aadhaar"): (200, AADHAAR),
    ("GET", f"/api/digilocker/{REQUEST_ID}/revoke"): (200, REVOKE),
}


class Setu:
    """A MockTransport handler answering as Setu documents, recording what it was sent."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if request.url.host == "files.setu.example":
            return httpx.Response(200, content=b"%PDF-1.7 synthetic")
        answer = ANSWERS.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, content=NOT_FOUND)
        status, body = answer
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], **overrides: object
) -> DigiLockerClient:
    values: dict[str, object] = {
        "client_id": "setu-client",
        "client_secret": "setu-secret",
        "product_instance_id": "setu-instance",
        "transport": httpx.MockTransport(handler),
        "retry_backoff": 0.0,
        **overrides,
    }
    return DigiLockerClient(SANDBOX, **values)  # type: ignore[arg-type]


@pytest.fixture
def setu() -> Setu:
    return Setu()


def test_every_call_reads_setus_documented_answer(setu: Setu, tmp_path: Path) -> None:
    with client_for(setu) as client:
        created = client.create(
            "https://lender.example/kyc/done?sessionId=s-1001", doc_type="PANCR"
        )
        status = client.status(REQUEST_ID)
        catalogue = client.catalogue()
        fetched = client.fetch_document(
            REQUEST_ID,
            doc_type="TRLIC",
            org_id="900001",
            parameters={"licence_no": "TL-2024-0042", "ward": "12"},
        )
        aadhaar = client.aadhaar(REQUEST_ID)
        revoked = client.revoke(REQUEST_ID)
        path = client.download(fetched.file_url, tmp_path / "licence.pdf")
    assert created.id == REQUEST_ID
    assert created.valid_upto == "2025-01-03T10:11:12+05:30"
    assert status.digilocker_user_details.phone_number == "5000000001"
    assert status.trace_id == "3f0c1e52a9b84d7e"
    assert status.reauth_required is False  # Setu sends no such field
    assert catalogue.find("TRLIC", "900001")[0].parameters[1].name == "ward"
    assert catalogue.etag is None
    assert fetched.parameters_verified is None
    assert aadhaar.aadhaar.address.post_office == "Mocknagar PO"
    assert aadhaar.aadhaar.xml.valid_until == "2025-01-02T11:11:12+05:30"
    assert revoked.success is True
    assert path.read_bytes() == b"%PDF-1.7 synthetic"


def test_calls_carry_the_three_headers_and_setus_bodies(setu: Setu) -> None:
    with client_for(setu) as client:
        client.create("https://lender.example/kyc/done", doc_type="PANCR")
        client.fetch_document(
            REQUEST_ID, doc_type="TRLIC", org_id="900001", parameters={"licence_no": "TL-1"}
        )
    for request in setu.sent:
        assert request.headers["x-client-id"] == "setu-client"
        assert request.headers["x-client-secret"] == "setu-secret"
        assert request.headers["x-product-instance-id"] == "setu-instance"
    assert json.loads(setu.sent[0].content) == {
        "redirectUrl": "https://lender.example/kyc/done",
        "docType": "PANCR",
    }
    assert json.loads(setu.sent[1].content) == {
        "docType": "TRLIC",
        "orgId": "900001",
        "format": "pdf",
        "consent": "Y",
        "parameters": [{"name": "licence_no", "value": "TL-1"}],
    }


def test_download_sends_no_credentials_to_the_file_host(setu: Setu, tmp_path: Path) -> None:
    with client_for(setu) as client:
        client.download("https://files.setu.example/AQJrMQ", tmp_path / "f.pdf")
    assert "x-client-secret" not in setu.sent[0].headers
    assert "x-client-id" not in setu.sent[0].headers


def test_unknown_fields_are_kept_not_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        del request
        body = json.loads(STATUS)
        body["somethingNew"] = {"x": 1}
        return httpx.Response(200, json=body)

    with client_for(handler) as client:
        status = client.status(REQUEST_ID)
    assert status.model_extra == {"somethingNew": {"x": 1}}


def test_envelope_becomes_the_exception_with_code_detail_trace_id_and_status(setu: Setu) -> None:
    with client_for(setu) as client, pytest.raises(NotFoundError) as raised:
        client.status("00000000-0000-4000-8000-000000000000")
    error = raised.value
    assert (error.code, error.status, error.trace_id) == (
        "request_not_found",
        404,
        "3f0c1e52a9b84d7e",
    )
    assert error.detail == "No such DigiLocker request (it may have expired)."
    assert "request_not_found" in str(error)
    assert len(setu.sent) == 1  # a 404 is not retried


@pytest.mark.parametrize(
    ("call", "extension"),
    [
        (lambda c: c.create("https://x.example/", expected={"name": "A"}), "expected"),
        (lambda c: c.create("https://x.example/", doc_type="PANCR,DRVLC"), "several doc types"),
        (
            lambda c: c.fetch_document(REQUEST_ID, doc_type="T", org_id="1", with_data=True),
            "withData",
        ),
        (lambda c: c.offline_ekyc(b"zip", share_code="1234"), "offline e-KYC"),
        (lambda c: c.issued(REQUEST_ID), "the issued list"),
        (
            lambda c: c.fetch_issued(
                REQUEST_ID, IssuedDocument(doc_type="DRVLC", org_id="1", uri="in.gov-DRVLC-1")
            ),
            "uri",
        ),
        (lambda c: c.fetch_document(REQUEST_ID, doc_type="T", org_id="1", uri="u"), "uri"),
        (lambda c: c.verify_account(mobile="5000000001"), "the account check"),
        (lambda c: c.create_webhook("https://x.example/hooks"), "the webhook API"),
        (lambda c: c.list_webhooks(), "the webhook API"),
        (lambda c: c.get_webhook("e"), "the webhook API"),
        (lambda c: c.update_webhook("e", enabled=False), "the webhook API"),
        (lambda c: c.delete_webhook("e"), "the webhook API"),
        (lambda c: c.rotate_webhook_secret("e"), "the webhook API"),
        (lambda c: c.webhook_deliveries(), "the webhook API"),
        (lambda c: c.replay_webhooks("e", delivery_id=1), "the webhook API"),
    ],
)
def test_gateway_extensions_against_setu_raise_before_sending(
    setu: Setu, call: Callable[[DigiLockerClient], object], extension: str
) -> None:
    with client_for(setu) as client, pytest.raises(GatewayOnlyError) as raised:
        call(client)
    assert raised.value.code == "gateway_only"
    assert extension in raised.value.detail
    assert setu.sent == []


def test_catalogue_without_an_etag_is_reused_within_its_max_age(setu: Setu) -> None:
    now = [1000.0]
    cache = CatalogueCache(max_age=3600, clock=lambda: now[0])
    with client_for(setu, catalogue_cache=cache) as client:
        client.catalogue()
        client.catalogue()
        assert len(setu.sent) == 1
        now[0] += 3601
        client.catalogue()
        assert len(setu.sent) == 2
        client.catalogue(refresh=True)
        assert len(setu.sent) == 3


def flaky(failures: list[httpx.Response | Exception]) -> Setu:
    class Flaky(Setu):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if failures:
                self.sent.append(request)
                failure = failures.pop(0)
                if isinstance(failure, Exception):
                    raise failure
                return failure
            return super().__call__(request)

    return Flaky()


def upstream_error() -> httpx.Response:
    return httpx.Response(
        500,
        json={"error": {"code": "upstream_server_error", "detail": "x", "traceId": "t1"}},
    )


def test_safe_calls_are_retried_on_retryable_answers_and_network_errors() -> None:
    handler = flaky([upstream_error(), httpx.ConnectError("refused"), httpx.Response(502)])
    with client_for(handler, max_retries=3) as client:
        status = client.status(REQUEST_ID)
    assert status.status == "authenticated"
    assert len(handler.sent) == 4


def test_retries_stop_after_max_retries_with_the_last_error() -> None:
    handler = flaky([upstream_error() for _ in range(5)])
    with client_for(handler, max_retries=2) as client, pytest.raises(UpstreamError) as raised:
        client.revoke(REQUEST_ID)
    assert raised.value.trace_id == "t1"
    assert len(handler.sent) == 3


@pytest.mark.parametrize(
    "failure", [upstream_error(), httpx.ConnectError("refused"), httpx.Response(502)]
)
def test_create_and_fetch_are_never_retried(failure: httpx.Response | Exception) -> None:
    handler = flaky([failure, failure])
    with client_for(handler, max_retries=3) as client:
        with pytest.raises((UpstreamError, NetworkError, ServerError)):
            client.create("https://x.example/")
        with pytest.raises((UpstreamError, NetworkError, ServerError)):
            client.fetch_document(REQUEST_ID, doc_type="TRLIC", org_id="900001")
    assert len(handler.sent) == 2


def test_internal_server_error_is_not_retried() -> None:
    answer = httpx.Response(
        500, json={"error": {"code": "internal_server_error", "detail": "x", "traceId": "t2"}}
    )
    handler = flaky([answer, answer])
    with client_for(handler, max_retries=3) as client, pytest.raises(ServerError):
        client.status(REQUEST_ID)
    assert len(handler.sent) == 1


def test_a_timeout_is_a_request_timeout_error_with_no_status() -> None:
    handler = flaky([httpx.ReadTimeout("slow") for _ in range(3)])
    with client_for(handler, max_retries=2) as client, pytest.raises(RequestTimeoutError) as raised:
        client.aadhaar(REQUEST_ID)
    assert (raised.value.code, raised.value.status, raised.value.trace_id) == (
        "timeout",
        None,
        None,
    )
    assert isinstance(raised.value, NetworkError)


def test_a_5xx_without_the_envelope_is_a_server_error() -> None:
    handler = flaky([httpx.Response(500, text="<html>oops</html>", headers={"x-trace-id": "t3"})])
    with client_for(handler, max_retries=0) as client, pytest.raises(ServerError) as raised:
        client.status(REQUEST_ID)
    assert (raised.value.code, raised.value.status, raised.value.trace_id) == (
        "http_500",
        500,
        "t3",
    )


def test_credentials_come_from_the_environment() -> None:
    environ = {
        "SETU_BASE_URL": SANDBOX,
        "SETU_CLIENT_ID": "env-client",
        "SETU_CLIENT_SECRET": "env-secret",
        "DLG_CLIENT_PRODUCT_INSTANCE_ID": "env-instance",
    }
    setu = Setu()
    with DigiLockerClient(environ=environ, transport=httpx.MockTransport(setu)) as client:
        assert not client.is_gateway
        client.status(REQUEST_ID)
    assert setu.sent[0].headers["x-client-id"] == "env-client"
    assert setu.sent[0].headers["x-product-instance-id"] == "env-instance"


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(ValueError, match="DLG_CLIENT_SECRET or SETU_CLIENT_SECRET"):
        DigiLockerClient(SANDBOX, client_id="a", product_instance_id="c", environ={})


def test_secret_is_not_in_the_credentials_repr() -> None:
    with client_for(Setu()) as client:
        assert "setu-secret" not in repr(client._credentials)


async def test_the_async_client_reads_the_same_answers(setu: Setu, tmp_path: Path) -> None:
    async with AsyncDigiLockerClient(
        SANDBOX,
        client_id="setu-client",
        client_secret="setu-secret",
        product_instance_id="setu-instance",
        transport=httpx.MockTransport(setu),
        retry_backoff=0.0,
    ) as client:
        created = await client.create("https://lender.example/kyc/done", doc_type="PANCR")
        status = await client.status(REQUEST_ID)
        catalogue = await client.catalogue()
        fetched = await client.fetch_document(
            REQUEST_ID, doc_type="TRLIC", org_id="900001", parameters={"licence_no": "TL-1"}
        )
        aadhaar = await client.aadhaar(REQUEST_ID)
        revoked = await client.revoke(REQUEST_ID)
        path = await client.download(fetched.file_url, tmp_path / "f.pdf")
        with pytest.raises(NotFoundError):
            await client.status("unknown")
        with pytest.raises(GatewayOnlyError):
            await client.offline_ekyc(b"zip", share_code="1")
        with pytest.raises(GatewayOnlyError):
            await client.issued(REQUEST_ID)
        with pytest.raises(GatewayOnlyError):
            await client.verify_account(mobile="5000000001")
        with pytest.raises(GatewayOnlyError):
            await client.list_webhooks()
    assert created.id == status.id == aadhaar.id == REQUEST_ID
    assert catalogue.documents[0].org_name == "Sample Municipal Corporation"
    assert revoked.success
    assert path.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("status", "body", "headers", "family", "retry_after"),
    [
        (
            429,
            b'{"error": {"code": "rate_limit_exceeded", "detail": "Slow down."}}',
            {"retry-after": "17"},
            RateLimitError,
            17.0,
        ),
        (429, b"", {"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, RateLimitError, None),
        (429, b"", {"retry-after": "nan"}, RateLimitError, None),
        (
            403,
            b'{"error": {"code": "extension_not_allowed", "detail": "No."}}',
            {},
            ExtensionNotAllowedError,
            None,
        ),
        (
            403,
            b'{"error": {"code": "forbidden_elsewhere", "detail": "No."}}',
            {},
            InvalidRequestError,
            None,
        ),
    ],
)
def test_rate_limits_and_refused_extensions_have_their_own_classes(
    status: int,
    body: bytes,
    headers: dict[str, str],
    family: type[Exception],
    retry_after: float | None,
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status, content=body, headers=headers)

    with client_for(answer) as client, pytest.raises(family) as raised:
        client.status(REQUEST_ID)
    assert type(raised.value) is family
    assert getattr(raised.value, "retry_after", None) == retry_after
    assert len(sent) == 1  # neither is retried


def test_the_extensions_send_the_gateways_shapes_from_the_blocking_client() -> None:
    """The blocking client's extension calls, as sent and as read (the async client's are
    exercised against the real app in test_extensions.py and test_webhooks.py)."""
    sent: list[httpx.Request] = []
    endpoint = {
        "id": "whep_1",
        "url": "https://x.example/hooks",
        "eventTypes": [],
        "enabled": True,
        "disabledReason": None,
        "previousSecretExpiresAt": None,
        "createdAt": "2026-01-05T10:00:00+05:30",
    }
    answers: dict[tuple[str, str], object] = {
        ("GET", f"/api/digilocker/{REQUEST_ID}/issued"): {
            "documents": [
                {
                    "docType": "DRVLC",
                    "orgId": "000048",
                    "orgName": "Transport",
                    "issuerId": "in",
                    "name": "DL",
                    "description": "Driving Licence",
                    "date": "01/02/2020",
                    "uri": "in-DRVLC-1",
                    "availableFormats": ["xml"],
                    "fetchable": True,
                    "newField": 1,
                }
            ]
        },
        ("POST", f"/api/digilocker/{REQUEST_ID}/document"): {
            "fileUrl": "https://gw.example/files/t",
            "validUpto": "x",
            "parametersVerified": False,
        },
        ("POST", "/api/digilocker/accounts/verify"): {"exists": True},
        ("POST", "/api/digilocker/webhooks"): {**endpoint, "secret": "whsec_c2VjcmV0"},
        ("GET", "/api/digilocker/webhooks"): {"endpoints": [endpoint]},
        ("PATCH", "/api/digilocker/webhooks/whep_1"): {**endpoint, "enabled": False},
        ("GET", "/api/digilocker/webhooks/deliveries"): {"deliveries": []},
        ("POST", "/api/digilocker/webhooks/whep_1/replay"): {"queued": 2},
        ("POST", "/api/digilocker/webhooks/whep_1/rotate-secret"): {
            "id": "whep_1",
            "secret": "whsec_bmV3",
            "previousSecretExpiresAt": "y",
        },
    }

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json=answers[(request.method, request.url.path)])

    with DigiLockerClient(
        "https://gateway.example",
        client_id="a",
        client_secret="b",
        product_instance_id="c",
        transport=httpx.MockTransport(gateway),
    ) as client:
        issued = client.issued(REQUEST_ID)
        fetched = client.fetch_issued(REQUEST_ID, issued.documents[0], with_data=True)
        exists = client.verify_account(mobile="5000000001").exists
        created = client.create_webhook("https://x.example/hooks", event_types=["request.revoked"])
        listed = client.list_webhooks()
        changed = client.update_webhook("whep_1", enabled=False)
        client.delete_webhook("whep_1")
        rotated = client.rotate_webhook_secret("whep_1", overlap_seconds=0)
        deliveries = client.webhook_deliveries(request_id=REQUEST_ID, status="failed", limit=5)
        queued = client.replay_webhooks("whep_1", failed_since=datetime(2026, 1, 5, tzinfo=UTC))
    assert issued.documents[0].model_extra == {"newField": 1}
    assert fetched.parameters_verified is False
    assert exists is True
    assert created.secret == "whsec_c2VjcmV0"
    assert [item.id for item in listed] == ["whep_1"]
    assert changed.enabled is False
    assert rotated.secret == "whsec_bmV3"
    assert (deliveries, queued) == ([], 2)
    bodies = [json.loads(request.content) if request.content else None for request in sent]
    assert bodies[1] == {
        "docType": "DRVLC",
        "orgId": "000048",
        "format": "xml",  # the only format listed
        "consent": "Y",
        "parameters": [],
        "uri": "in-DRVLC-1",
        "withData": True,
    }
    assert bodies[2] == {"mobile": "5000000001"}
    assert bodies[3] == {
        "url": "https://x.example/hooks",
        "enabled": True,
        "eventTypes": ["request.revoked"],
    }
    assert bodies[5] == {"enabled": False}
    assert sent[6].method == "DELETE"
    assert bodies[7] == {"overlapSeconds": 0}
    assert dict(sent[8].url.params) == {"requestId": REQUEST_ID, "status": "failed", "limit": "5"}
    assert bodies[9] == {"failedSince": "2026-01-05T00:00:00+00:00"}
    assert all(request.headers["x-client-id"] == "a" for request in sent)
