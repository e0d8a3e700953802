"""A typed use of the SDK, checked by `mypy --strict` with the rest of the code (docs/sdk.md).

Run it against a gateway started with `./scripts/serve` (the credentials it printed):

    DLG_CLIENT_BASE_URL=http://127.0.0.1:8000 DLG_CLIENT_ID=… DLG_CLIENT_SECRET=… \
    DLG_CLIENT_PRODUCT_INSTANCE_ID=… python examples/sdk_usage.py
"""

from __future__ import annotations

import sys

from digilocker_gateway.client import (
    DigiLockerClient,
    DigiLockerError,
    NotAuthenticatedError,
    NotFoundError,
    RequestStatus,
    WaitTimeoutError,
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
