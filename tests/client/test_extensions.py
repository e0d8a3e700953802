"""The SDK's methods for the gateway's extensions — the issued list, fetch by a listed
document, typed document data, the account check, the webhook API — against the real app
(ASGI transport) and its embedded simulator, each with the errors the gateway answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digilocker_gateway.client import (
    AsyncDigiLockerClient,
    ConsentError,
    DocumentData,
    ExtensionNotAllowedError,
    IdentityMatch,
    InvalidRequestError,
    IssuedDocument,
    NotAuthenticatedError,
    NotFoundError,
    RateLimitError,
    UpstreamError,
)
from digilocker_gateway.tenants.service import set_journey_options
from tests.client.conftest import authenticated_request, consent, sdk_for
from tests.simulator.test_journey import unknown_aadhaar
from tests.support import REDIRECT_URL, Gateway, sim_user, sim_users


async def limited_sdk(gateway: Gateway, **changes: object) -> AsyncDigiLockerClient:
    """A client of a new product instance with these journey options."""
    headers = await gateway.new_client_headers()
    async with gateway.runtime.transaction() as session:
        await set_journey_options(session, headers["x-product-instance-id"], changes)
    return sdk_for(replace(gateway, headers=headers))


# -- the issued list and fetch by uri ---------------------------------------------------------


async def test_issued_lists_what_the_user_holds_and_shared_typed(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(catalogued_gateway, catalogued_sdk)
    user = await sim_user(catalogued_gateway, "complete")

    issued = await catalogued_sdk.issued(request_id)

    held = sorted(d["docType"] for d in user["documents"] if d["issued"])
    assert sorted(item.doc_type for item in issued.documents) == held
    licence = issued.find("DRVLC")[0]
    assert licence.fetchable is True
    assert licence.org_id is not None
    assert licence.uri.startswith(f"{licence.issuer_id}-DRVLC-")
    assert set(licence.available_formats) <= {"pdf", "xml"}
    assert all(item.fetchable is (item.org_id is not None) for item in issued.documents)


async def test_issued_leaves_out_what_the_user_did_not_tick(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(
        catalogued_gateway, catalogued_sdk, doc_type="PANCR", doctypes=["PANCR"]
    )
    issued = await catalogued_sdk.issued(request_id)
    assert [item.doc_type for item in issued.documents] == ["PANCR"]


async def test_fetch_issued_takes_a_listed_document_by_uri_with_typed_data(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient, tmp_path: Path
) -> None:
    request_id = await authenticated_request(catalogued_gateway, catalogued_sdk)
    licence = (await catalogued_sdk.issued(request_id)).find("DRVLC")[0]

    fetched = await catalogued_sdk.fetch_issued(request_id, licence, with_data=True)

    assert fetched.parameters_verified is False  # no parameters were checked
    data = fetched.data
    assert isinstance(data, DocumentData)
    assert data.doc_type == "DRVLC"
    assert data.source == "xml"
    assert data.verified.signature is True
    assert data.driving_licence is not None
    assert data.driving_licence.vehicle_classes
    assert data.document_number
    assert licence.uri.endswith(data.document_number)
    path = await catalogued_sdk.download(fetched.file_url, tmp_path / "dl.pdf")
    assert path.read_bytes().startswith(b"%PDF-")


async def test_fetch_issued_in_xml_answers_the_certificate(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient, tmp_path: Path
) -> None:
    request_id = await authenticated_request(catalogued_gateway, catalogued_sdk)
    pan = (await catalogued_sdk.issued(request_id)).find("PANCR")[0]
    assert "xml" in pan.available_formats
    fetched = await catalogued_sdk.fetch_issued(request_id, pan, format="xml")
    path = await catalogued_sdk.download(fetched.file_url, tmp_path / "pan.xml")
    assert b"<Certificate" in path.read_bytes()


async def test_fetch_document_by_a_uri_not_in_the_list_raises_upstream_invalid_uri(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(catalogued_gateway, catalogued_sdk)
    licence = (await catalogued_sdk.issued(request_id)).find("DRVLC")[0]
    assert licence.org_id is not None
    with pytest.raises(UpstreamError) as raised:
        await catalogued_sdk.fetch_document(
            request_id, doc_type="DRVLC", org_id=licence.org_id, uri=licence.uri + "0"
        )
    assert (raised.value.code, raised.value.status) == ("invalid_uri", 400)


async def test_fetch_issued_of_an_unticked_doc_type_raises_consent_error(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient
) -> None:
    everything = await authenticated_request(catalogued_gateway, catalogued_sdk)
    licence = (await catalogued_sdk.issued(everything)).find("DRVLC")[0]
    only_pan = await authenticated_request(
        catalogued_gateway, catalogued_sdk, doc_type="PANCR", doctypes=["PANCR"]
    )
    with pytest.raises(ConsentError) as raised:
        await catalogued_sdk.fetch_issued(only_pan, licence)
    assert raised.value.code == "user_consent_not_given"


async def test_a_listed_document_without_an_org_id_is_refused_before_sending(
    sdk: AsyncDigiLockerClient,
) -> None:
    aadhaar = IssuedDocument(doc_type="ADHAR", uri="in.gov.uidai-ADHAR-x", org_id=None)
    with pytest.raises(ValueError, match="no orgId"):
        await sdk.fetch_issued("any", aadhaar)
    with pytest.raises(ValueError, match="not both"):
        await sdk.fetch_document(
            "any", doc_type="PANCR", org_id="1", parameters={"panno": "X"}, uri="u"
        )


async def test_issued_before_the_user_finished_raises_not_authenticated(
    sdk: AsyncDigiLockerClient,
) -> None:
    created = await sdk.create(REDIRECT_URL)
    with pytest.raises(NotAuthenticatedError) as raised:
        await sdk.issued(created.id)
    assert (raised.value.code, raised.value.status) == ("user_not_authenticated", 401)


async def test_issued_of_an_unknown_request_raises_not_found(sdk: AsyncDigiLockerClient) -> None:
    with pytest.raises(NotFoundError) as raised:
        await sdk.issued("00000000-0000-4000-8000-000000000000")
    assert raised.value.code == "request_not_found"


async def test_issued_not_allowed_for_the_instance_raises_extension_not_allowed(
    gateway: Gateway,
) -> None:
    async with await limited_sdk(gateway, allowed_extensions="docTypes") as limited:
        created = await limited.create(REDIRECT_URL)
        await consent(gateway, created.url)
        with pytest.raises(ExtensionNotAllowedError) as raised:
            await limited.issued(created.id)
    assert (raised.value.code, raised.value.status) == ("extension_not_allowed", 403)
    assert raised.value.trace_id


async def test_match_and_aadhaar_extras_are_typed(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    user = await sim_user(gateway, "complete")
    created = await sdk.create(
        REDIRECT_URL, doc_type="ADHAR", expected={"name": user["name"], "dateOfBirth": "01-01-1900"}
    )
    await consent(gateway, created.url)
    result = await sdk.aadhaar(created.id)
    assert isinstance(result.match, IdentityMatch)
    assert result.match.name is not None
    assert result.match.name.result == "match"
    assert result.match.name.score == 100
    assert result.match.date_of_birth is not None
    assert result.match.date_of_birth.result == "mismatch"
    assert result.match.pan is None
    extras = result.aadhaar_extras
    assert extras is not None
    assert extras.address_lines
    assert extras.age is not None
    assert extras.is_adult is (extras.age >= 18)


# -- the account check --------------------------------------------------------------------


async def test_verify_account_by_mobile_and_by_aadhaar(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    user = await sim_user(gateway, "complete")
    newcomer = await sim_user(gateway, "new-user")
    known = {item["aadhaar"] for item in await sim_users(gateway)}

    assert (await sdk.verify_account(mobile=f"+91 {user['mobile']}")).exists is True
    assert (await sdk.verify_account(aadhaar=user["aadhaar"])).exists is True
    assert (await sdk.verify_account(mobile=newcomer["mobile"])).exists is False
    assert (await sdk.verify_account(aadhaar=unknown_aadhaar(known))).exists is False


async def test_verify_account_of_a_malformed_number_raises_invalid_request_without_it(
    sdk: AsyncDigiLockerClient,
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        await sdk.verify_account(aadhaar="123412341235")  # a failing check digit
    assert (raised.value.code, raised.value.status) == ("invalid_payload", 400)
    assert "123412341235" not in str(raised.value)


async def test_verify_account_needs_exactly_one_number(sdk: AsyncDigiLockerClient) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        await sdk.verify_account()
    with pytest.raises(ValueError, match="exactly one"):
        await sdk.verify_account(mobile="5000000001", aadhaar="1")


async def test_verify_account_beyond_the_limit_raises_rate_limit_error(gateway: Gateway) -> None:
    async with await limited_sdk(gateway, account_checks_per_minute=0) as limited:
        with pytest.raises(RateLimitError) as raised:
            await limited.verify_account(mobile="5000000001")
    assert (raised.value.code, raised.value.status) == ("rate_limit_exceeded", 429)


async def test_verify_account_not_allowed_raises_extension_not_allowed(gateway: Gateway) -> None:
    async with await limited_sdk(gateway, allowed_extensions="flow") as limited:
        with pytest.raises(ExtensionNotAllowedError):
            await limited.verify_account(mobile="5000000001")


# -- the webhook API ----------------------------------------------------------------------


async def test_webhook_endpoints_are_added_listed_changed_rotated_and_deleted(
    sdk: AsyncDigiLockerClient,
) -> None:
    created = await sdk.create_webhook(
        "https://hooks.example.com/digilocker", event_types=["request.authenticated"]
    )
    assert created.secret.startswith("whsec_")
    assert created.secret not in repr(created)
    assert created.event_types == ["request.authenticated"]
    assert created.enabled is True

    listed = await sdk.list_webhooks()
    assert [item.id for item in listed] == [created.id]
    assert "secret" not in listed[0].model_dump()
    assert (await sdk.get_webhook(created.id)).url == created.url

    changed = await sdk.update_webhook(created.id, enabled=False, event_types=[])
    assert (changed.enabled, changed.event_types, changed.url) == (False, [], created.url)

    rotated = await sdk.rotate_webhook_secret(created.id, overlap_seconds=60)
    assert rotated.secret.startswith("whsec_")
    assert rotated.secret != created.secret
    assert rotated.previous_secret_expires_at is not None

    await sdk.delete_webhook(created.id)
    assert await sdk.list_webhooks() == []
    with pytest.raises(NotFoundError) as raised:
        await sdk.get_webhook(created.id)
    assert (raised.value.code, raised.value.status) == ("not_found", 404)
    with pytest.raises(NotFoundError):
        await sdk.delete_webhook(created.id)


async def test_another_instances_webhook_is_not_found(gateway: Gateway) -> None:
    async with sdk_for(gateway) as owner, await limited_sdk(gateway) as other:
        created = await owner.create_webhook("https://hooks.example.com/a")
        with pytest.raises(NotFoundError):
            await other.get_webhook(created.id)
        with pytest.raises(NotFoundError):
            await other.webhook_deliveries(created.id)
        assert await other.list_webhooks() == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/a",
        "http://hooks.example.com/a",
        "https://user:pw@hooks.example.com/a",
    ],
)
async def test_a_refused_webhook_url_raises_invalid_request(
    sdk: AsyncDigiLockerClient, url: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        await sdk.create_webhook(url)
    assert raised.value.code == "invalid_payload"
    assert await sdk.list_webhooks() == []


async def test_replay_needs_exactly_one_choice_and_an_aware_time(
    sdk: AsyncDigiLockerClient,
) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        await sdk.replay_webhooks("any")
    with pytest.raises(ValueError, match="exactly one"):
        await sdk.replay_webhooks("any", delivery_id=1, request_id="r")
    with pytest.raises(ValueError, match="time zone"):
        await sdk.replay_webhooks("any", failed_since=datetime(2026, 1, 1))


async def test_replay_of_an_unknown_endpoint_raises_not_found(sdk: AsyncDigiLockerClient) -> None:
    with pytest.raises(NotFoundError):
        await sdk.replay_webhooks("whep_unknown", failed_since=datetime.now(UTC) - timedelta(1))
