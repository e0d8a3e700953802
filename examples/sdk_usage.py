"""A typed use of the SDK, checked by `mypy --strict` with the rest of the code (docs/sdk.md).

Run it against a gateway started with `./scripts/serve` (the credentials it printed):

    DLG_CLIENT_BASE_URL=http://127.0.0.1:8000 DLG_CLIENT_ID=… DLG_CLIENT_SECRET=… \
    DLG_CLIENT_PRODUCT_INSTANCE_ID=… python examples/sdk_usage.py
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from digilocker_gateway.client import (
    DigiLockerClient,
    DigiLockerError,
    NotAuthenticatedError,
    NotFoundError,
    RequestStatus,
    WaitTimeoutError,
    WebhookVerificationError,
    verify_webhook,
)


def describe(status: RequestStatus) -> str:
    """One line about a request, as a back office would show it."""
    details = status.digilocker_user_details
    who = details.digilocker_id or "nobody yet"
    return f"{status.id}: {status.status} ({who}), valid until {status.valid_upto}"


def aadhaar_summary(client: DigiLockerClient, request_id: str) -> str:
    """The masked Aadhaar number and PIN code, or why there is none."""
    try:
        result = client.aadhaar(request_id)
    except NotAuthenticatedError as exc:
        return f"not readable yet: {exc.code}"
    except NotFoundError:
        return "no such request"
    return f"{result.aadhaar.masked_number}, PIN {result.aadhaar.address.pin}"


def save_shared_documents(client: DigiLockerClient, request_id: str, folder: Path) -> list[Path]:
    """Gateway only: download, as PDF, every document the user shared that can be fetched by
    its uri, with no parameters to ask the user for."""
    saved = []
    for document in client.issued(request_id).documents:
        if not document.fetchable or "pdf" not in (document.available_formats or ["pdf"]):
            continue
        fetched = client.fetch_issued(request_id, document, format="pdf")
        saved.append(client.download(fetched.file_url, folder / f"{document.doc_type}.pdf"))
    return saved


def on_webhook(headers: Mapping[str, str], body: bytes, secret: str) -> tuple[int, str]:
    """What a web framework's webhook handler would answer: the HTTP status, and a note."""
    try:
        event = verify_webhook(headers, body, secret)
    except WebhookVerificationError as exc:
        return 400, f"refused: {exc.code}"
    if event.type == "request.authenticated":
        return 204, f"{event.request_id} consented to {', '.join(event.data.doc_types or [])}"
    return 204, f"{event.request_id}: {event.type}"


def main() -> int:
    with DigiLockerClient() as client:
        created = client.create("https://example.com/kyc/done", doc_type="ADHAR")
        print(f"open {created.url} in a browser and consent")
        try:
            status = client.wait_for_authentication(created.id, timeout=300)
        except WaitTimeoutError:
            print("the user did not finish in time", file=sys.stderr)
            return 1
        except DigiLockerError as exc:
            print(f"failed: {exc}", file=sys.stderr)
            return 1
        print(describe(status))
        print(aadhaar_summary(client, created.id))
        client.revoke(created.id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
