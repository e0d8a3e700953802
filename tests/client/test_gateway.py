"""Every SDK method against the real gateway and its embedded simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from digilocker_gateway.client import (
    AadhaarError,
    AsyncDigiLockerClient,
    AuthenticationError,
    CatalogueCache,
    ConsentError,
    InvalidRequestError,
    NotAuthenticatedError,
    NotFoundError,
    UpstreamError,
    WaitTimeoutError,
    parse_callback,
)
from tests.client.conftest import authenticated_request, consent, sdk_for
from tests.support import BASE_URL, REDIRECT_URL, Gateway, sim_user


async def test_create_answers_a_typed_request_with_the_journey_url(
    sdk: AsyncDigiLockerClient,
) -> None:
    created = await sdk.create(REDIRECT_URL, doc_type=["PANCR", "DRVLC"])
    assert created.status == "unauthenticated"
    assert created.url == f"{BASE_URL}/digilocker/journey/{created.id}"
    assert created.valid_upto.endswith("+05:30")


async def test_status_follows_the_journey_and_carries_the_user_details(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    created = await sdk.create(REDIRECT_URL)
    before = await sdk.status(created.id)
    assert before.status == "unauthenticated"
    assert before.digilocker_user_details.digilocker_id is None
    assert not before.is_authenticated
    query = await consent(gateway, created.url)
    back = parse_callback(query)
    assert back.success
    assert back.id == created.id
    after = await sdk.status(created.id)
    assert after.is_authenticated
    assert after.digilocker_user_details.digilocker_id
    assert after.trace_id
    assert after.reauth_required is False


async def test_wait_returns_once_authenticated(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(gateway, sdk)
    status = await sdk.wait_for_authentication(request_id, timeout=5, interval=0.01)
    assert status.status == "authenticated"


async def test_wait_on_an_unfinished_journey_raises_wait_timeout(
    sdk: AsyncDigiLockerClient,
) -> None:
    created = await sdk.create(REDIRECT_URL)
    with pytest.raises(WaitTimeoutError) as raised:
        await sdk.wait_for_authentication(created.id, timeout=0.05, interval=0.01)
    assert raised.value.code == "wait_timeout"


async def test_catalogue_is_revalidated_by_etag_and_kept_on_disk(
    catalogued_gateway: Gateway, tmp_path: Path
) -> None:
    statuses: list[int] = []

    async def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    cache = CatalogueCache(tmp_path / "cache")
    async with sdk_for(catalogued_gateway, catalogue_cache=cache) as sdk:
        sdk._http.event_hooks["response"] = [record]
        first = await sdk.catalogue()
        second = await sdk.catalogue()
    assert statuses == [200, 304]
    assert first.etag is not None
    assert first.etag == second.etag
    assert second.documents == first.documents
    pan = first.find("PANCR")
    assert pan
    assert pan[0].parameters
    # A new client with the same directory revalidates the copy on disk: 304, no body.
    async with sdk_for(catalogued_gateway, catalogue_cache=CatalogueCache(cache.directory)) as sdk:
        sdk._http.event_hooks["response"] = [record]
        third = await sdk.catalogue()
    assert statuses == [200, 304, 304]
    assert third.documents == first.documents


async def test_catalogue_progress_sees_every_byte(catalogued_sdk: AsyncDigiLockerClient) -> None:
    seen: list[tuple[int, int | None]] = []
    catalogue = await catalogued_sdk.catalogue(
        progress=lambda done, total: seen.append((done, total))
    )
    assert catalogue.documents
    assert seen
    assert seen[-1][0] > 1000
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_catalogue_before_the_first_refresh_raises_upstream_error_after_retries(
    gateway: Gateway,
) -> None:
    attempts: list[int] = []

    async def record(response: httpx.Response) -> None:
        attempts.append(response.status_code)

    async with sdk_for(gateway, max_retries=2) as sdk:
        sdk._http.event_hooks["response"] = [record]
        with pytest.raises(UpstreamError) as raised:
            await sdk.catalogue()
    assert raised.value.code == "catalogue_not_ready"
    assert raised.value.status == 503
    assert attempts == [503, 503, 503]


def pan_of(user: dict[str, Any]) -> dict[str, Any]:
    return next(document for document in user["documents"] if document["docType"] == "PANCR")


async def test_fetch_document_and_download_it_with_progress(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient, tmp_path: Path
) -> None:
    request_id = await authenticated_request(catalogued_gateway, catalogued_sdk, doc_type="PANCR")
    document = pan_of(await sim_user(catalogued_gateway, "complete"))
    fetched = await catalogued_sdk.fetch_document(
        request_id,
        doc_type="PANCR",
        org_id=document["orgId"],
        parameters=document["parameters"],
    )
    assert fetched.parameters_verified is True
    assert fetched.data is None
    seen: list[int] = []
    path = await catalogued_sdk.download(
        fetched.file_url, tmp_path / "pan.pdf", progress=lambda done, _total: seen.append(done)
    )
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    assert seen[-1] == len(content)
    assert not (tmp_path / "pan.pdf.partial").exists()


async def test_fetch_document_with_data_answers_the_fields(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(catalogued_gateway, catalogued_sdk, doc_type="PANCR")
    document = pan_of(await sim_user(catalogued_gateway, "complete"))
    fetched = await catalogued_sdk.fetch_document(
        request_id,
        doc_type="PANCR",
        org_id=document["orgId"],
        parameters=document["parameters"],
        with_data=True,
    )
    assert fetched.data is not None
    assert fetched.data.verified.signature is True
    assert fetched.data.pan is not None
    assert fetched.data.pan.number == document["parameters"]["panno"]


async def test_wrong_parameters_raise_invalid_request_customer_detail_mismatch(
    catalogued_gateway: Gateway, catalogued_sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(catalogued_gateway, catalogued_sdk, doc_type="PANCR")
    document = pan_of(await sim_user(catalogued_gateway, "complete"))
    wrong = dict.fromkeys(document["parameters"], "ZZZZZ9999Z")
    with pytest.raises(InvalidRequestError) as raised:
        await catalogued_sdk.fetch_document(
            request_id, doc_type="PANCR", org_id=document["orgId"], parameters=wrong
        )
    assert raised.value.code == "customer_detail_mismatch"
    assert raised.value.status == 400
    assert raised.value.trace_id


async def test_download_of_a_forged_file_url_raises_not_found(
    sdk: AsyncDigiLockerClient, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError) as raised:
        await sdk.download(f"{BASE_URL}/files/forged", tmp_path / "x.pdf")
    assert raised.value.code == "not_found"
    assert not (tmp_path / "x.pdf").exists()
    assert not (tmp_path / "x.pdf.partial").exists()


async def test_aadhaar_answers_the_masked_number_photo_and_address(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(gateway, sdk, doc_type="ADHAR")
    result = await sdk.aadhaar(request_id)
    assert result.status == "complete"
    assert result.aadhaar.masked_number.startswith("xxxx-xxxx-")
    assert result.aadhaar.photo
    assert result.aadhaar.address.pin
    assert result.aadhaar.verified.signature is True
    assert result.aadhaar_extras is not None


async def test_aadhaar_of_a_user_without_it_raises_aadhaar_error(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(gateway, sdk, scenario="aadhaar-not-linked")
    with pytest.raises(AadhaarError) as raised:
        await sdk.aadhaar(request_id)
    assert (raised.value.code, raised.value.status) == ("aadhaar_not_linked", 400)


async def test_aadhaar_not_ticked_raises_consent_error(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(gateway, sdk, doc_type="PANCR", doctypes=[])
    with pytest.raises(ConsentError) as raised:
        await sdk.aadhaar(request_id)
    assert (raised.value.code, raised.value.status) == ("user_consent_not_given", 400)


async def test_revoke_then_fetch_raises_not_authenticated_token_revoked(
    gateway: Gateway, sdk: AsyncDigiLockerClient
) -> None:
    request_id = await authenticated_request(gateway, sdk)
    assert (await sdk.revoke(request_id)).success is True
    assert (await sdk.revoke(request_id)).success is True
    assert (await sdk.status(request_id)).status == "revoked"
    with pytest.raises(NotAuthenticatedError) as raised:
        await sdk.aadhaar(request_id)
    assert (raised.value.code, raised.value.status) == ("token_revoked", 401)


async def test_unfinished_journey_raises_not_authenticated(sdk: AsyncDigiLockerClient) -> None:
    created = await sdk.create(REDIRECT_URL)
    with pytest.raises(NotAuthenticatedError) as raised:
        await sdk.revoke(created.id)
    assert raised.value.code == "user_not_authenticated"


async def test_unknown_request_raises_not_found(sdk: AsyncDigiLockerClient) -> None:
    with pytest.raises(NotFoundError) as raised:
        await sdk.status("00000000-0000-4000-8000-000000000000")
    assert (raised.value.code, raised.value.status) == ("request_not_found", 404)
    assert raised.value.trace_id


async def test_wrong_secret_raises_authentication_error(gateway: Gateway) -> None:
    async with sdk_for(gateway, client_secret="wrong") as sdk:
        with pytest.raises(AuthenticationError) as raised:
            await sdk.status("00000000-0000-4000-8000-000000000000")
    assert (raised.value.code, raised.value.status) == ("invalid_credentials", 401)


async def test_bad_redirect_url_raises_invalid_request(sdk: AsyncDigiLockerClient) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        await sdk.create("not-a-url")
    assert raised.value.code == "invalid_redirect_url"


async def test_offline_ekyc_that_is_no_zip_raises_aadhaar_error(
    sdk: AsyncDigiLockerClient,
) -> None:
    with pytest.raises(AadhaarError) as raised:
        await sdk.offline_ekyc(b"not a zip", share_code="1234")
    assert (raised.value.code, raised.value.status) == ("offline_ekyc_not_zip", 400)


async def test_offline_ekyc_of_the_simulators_zip_answers_the_aadhaar_body(
    gateway: Gateway, sdk: AsyncDigiLockerClient, tmp_path: Path
) -> None:
    archive = tmp_path / "offline.zip"
    response = await gateway.client.get(
        "/simulator/_sim/users/complete/offline-ekyc?shareCode=4321"
    )
    archive.write_bytes(response.content)
    result = await sdk.offline_ekyc(archive, share_code="4321")
    assert result.status == "complete"
    assert result.aadhaar.verified.signature is True
    assert result.aadhaar.masked_number.startswith("xxxx-xxxx-")
    with pytest.raises(AadhaarError) as raised:
        await sdk.offline_ekyc(archive, share_code="0000")
    assert raised.value.code == "offline_ekyc_wrong_share_code"
