"""examples/sdk_usage.py works (mypy --strict checks its types with the rest of the code)."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
from standardwebhooks.webhooks import Webhook

from digilocker_gateway.client import DigiLockerClient
from tests.client.test_setu_mock import REQUEST_ID, Setu, client_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sdk_usage.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sdk_usage", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_summarises_status_and_aadhaar() -> None:
    example = load_example()
    with client_for(Setu()) as client:
        assert example.describe(client.status(REQUEST_ID)).startswith(
            f"{REQUEST_ID}: authenticated"
        )
        assert example.aadhaar_summary(client, REQUEST_ID) == "xxxx-xxxx-9012, PIN 560099"
        assert example.aadhaar_summary(client, "unknown") == "no such request"


def issued_gateway(request: httpx.Request) -> httpx.Response:
    """A gateway answering the issued list (one fetchable document, one not) and its fetch."""
    if request.url.path.endswith("/issued"):
        documents = [
            {"docType": "DRVLC", "orgId": "000048", "uri": "in-DRVLC-1", "fetchable": True},
            {"docType": "OTHER", "orgId": None, "uri": "in-OTHER-1", "fetchable": False},
        ]
        return httpx.Response(200, json={"documents": documents})
    if request.url.path.endswith("/document"):
        assert json.loads(request.content)["uri"] == "in-DRVLC-1"
        return httpx.Response(200, json={"fileUrl": "https://gw.example/files/t", "validUpto": "x"})
    return httpx.Response(200, content=b"%PDF-1.7 synthetic")


def test_example_saves_the_fetchable_shared_documents(tmp_path: Path) -> None:
    example = load_example()
    with DigiLockerClient(
        "https://gateway.example",
        client_id="a",
        client_secret="b",
        product_instance_id="c",
        transport=httpx.MockTransport(issued_gateway),
    ) as client:
        saved = example.save_shared_documents(client, REQUEST_ID, tmp_path)
    assert saved == [tmp_path / "DRVLC.pdf"]
    assert saved[0].read_bytes().startswith(b"%PDF-")


def test_example_webhook_handler_accepts_signed_events_and_refuses_others() -> None:
    example = load_example()
    secret = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
    body = json.dumps(
        {
            "type": "request.authenticated",
            "timestamp": "2026-01-05T10:15:02+05:30",
            "data": {"id": REQUEST_ID, "status": "authenticated", "docTypes": ["PANCR", "ADHAR"]},
        }
    )
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, body),
    }
    assert example.on_webhook(headers, body.encode(), secret) == (
        204,
        f"{REQUEST_ID} consented to PANCR, ADHAR",
    )
    assert example.on_webhook(headers, body.encode() + b" ", secret) == (
        400,
        "refused: webhook_signature_invalid",
    )
