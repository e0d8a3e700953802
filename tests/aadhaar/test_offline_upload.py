"""POST /api/aadhaar/offline end to end: the simulator's offline e-KYC ZIP uploaded to the
gateway, verified and answered as OKYC JSON; and each refusal, a 400 of its own that stores
nothing (docs/document-data.md §6)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pyzipper
from sqlalchemy import func, select

from digilocker_gateway.db.models import OfflineEkycFile
from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.eaadhaar import render_offline_ekyc_xml
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.users import seed_users
from tests.aadhaar.test_okyc import SETU_ADDRESS_KEYS
from tests.requests.test_create import assert_envelope
from tests.support import Gateway, sim_user

SHARE_CODE = "4321"
PATH = "/api/aadhaar/offline"


async def offline_zip(gateway: Gateway, share_code: str = SHARE_CODE) -> bytes:
    response = await gateway.client.get(
        f"/simulator/_sim/users/complete/offline-ekyc?shareCode={share_code}"
    )
    assert response.status_code == 200
    return response.content


def aes_zip(entries: dict[str, bytes], share_code: str = SHARE_CODE) -> bytes:
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(share_code.encode())
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def inner_xml(archive: bytes, share_code: str = SHARE_CODE) -> bytes:
    with pyzipper.AESZipFile(io.BytesIO(archive)) as opened:
        data: bytes = opened.read(opened.infolist()[0], pwd=share_code.encode())
        return data


async def upload(
    gateway: Gateway,
    archive: bytes,
    *,
    share_code: str = SHARE_CODE,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> Any:
    return await gateway.client.post(
        PATH,
        files={"file": ("offlineaadhaar.zip", archive, "application/zip")},
        data={"shareCode": share_code, **fields},
        headers=gateway.headers if headers is None else headers,
    )


async def stored(gateway: Gateway) -> int:
    async with gateway.runtime.reading() as session:
        return int((await session.execute(select(func.count(OfflineEkycFile.id)))).scalar_one())


def blob_files(gateway: Gateway) -> list[Path]:
    root = gateway.runtime.settings.data_dir / "files"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def test_offline_zip_is_verified_and_answered_as_okyc_json(gateway: Gateway) -> None:
    user = await sim_user(gateway, "complete")
    archive = await offline_zip(gateway)
    response = await upload(gateway, archive, mobile=user["mobile"], email="")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "complete"
    aadhaar = body["aadhaar"]
    assert aadhaar["name"] == user["name"]
    assert aadhaar["maskedNumber"] == "xxxx-xxxx-" + user["aadhaar"][-4:]
    assert aadhaar["dateOfBirth"] == "15-08-1991"
    assert set(aadhaar["address"]) == SETU_ADDRESS_KEYS
    assert aadhaar["address"]["careOf"].startswith("D/O")
    assert aadhaar["photo"].startswith("/9j/")
    assert len(aadhaar["phone"]) == 64  # the hash, as Setu's offline example shows
    assert aadhaar["verified"] == {"email": False, "phone": True, "signature": True}
    assert aadhaar["xml"]["shareCode"] == SHARE_CODE
    assert aadhaar["xml"]["validUntil"].endswith("+05:30")
    assert aadhaar["generatedAt"].endswith("+05:30")
    assert body["aadhaarExtras"]["careOf"]["relation"] == "D/O"
    assert body["aadhaarExtras"]["isAdult"] is True
    assert "match" not in body
    download = await gateway.client.get(aadhaar["xml"]["fileUrl"])
    assert download.status_code == 200
    assert download.content == inner_xml(archive)
    assert user["aadhaar"] not in response.text
    assert await stored(gateway) == 1
    # Stored encrypted: the XML's text is in no file on disk.
    assert all(user["name"].encode() not in p.read_bytes() for p in blob_files(gateway))


async def test_declared_contacts_are_checked_against_the_hashes(gateway: Gateway) -> None:
    user = await sim_user(gateway, "complete")
    archive = await offline_zip(gateway)
    email = f"{user['name'].split()[0]}.{user['name'].split()[1]}@example.com".lower()
    right = await upload(gateway, archive, mobile="+91 " + user["mobile"], email=email)
    assert right.json()["aadhaar"]["verified"] == {"email": True, "phone": True, "signature": True}
    wrong = await upload(gateway, archive, mobile="5999999999", email="someone@example.com")
    assert wrong.json()["aadhaar"]["verified"] == {
        "email": False,
        "phone": False,
        "signature": True,
    }
    # The hash needs the share code: another one (with its own ZIP) does not verify this mobile.
    other = await offline_zip(gateway, "9876")
    hashed = await upload(gateway, other, share_code="9876", mobile=user["mobile"])
    assert hashed.json()["aadhaar"]["verified"]["phone"] is True
    assert hashed.json()["aadhaar"]["phone"] != right.json()["aadhaar"]["phone"]


async def test_expected_answers_match_and_a_wrong_number_can_be_refused(gateway: Gateway) -> None:
    user = await sim_user(gateway, "complete")
    archive = await offline_zip(gateway)
    expected = '{"name": "asha testkumari", "aadhaarLast4": "0000"}'
    flagged = await upload(gateway, archive, expected=expected)
    assert flagged.json()["match"] == {
        "name": {"result": "match", "score": 100},
        "aadhaarLast4": {"result": "mismatch", "score": 0},
    }
    assert user["name"].lower() == "asha testkumari"
    gateway.headers = await gateway.new_client_headers(refuse_number_mismatch=True)
    before = await stored(gateway)
    refused = await upload(gateway, archive, expected=expected)
    assert_envelope(refused, 400, "customer_detail_mismatch")
    assert await stored(gateway) == before


def _tamper_ciphertext(archive: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        info = opened.infolist()[0]
    # Past the local header, the AES salt and check value: inside the encrypted data.
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 18 + 40
    changed = bytearray(archive)
    changed[offset] ^= 0x01
    return bytes(changed)


def _bomb() -> bytes:
    return aes_zip({"offlineaadhaar.xml": b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>"})


def _traversal() -> bytes:
    return aes_zip({"../../etc/offlineaadhaar.xml": b"<OfflinePaperlessKyc/>"})


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("offlineaadhaar.xml", b"<OfflinePaperlessKyc/>")
    return buffer.getvalue()


def _resigned_by_another_pki() -> bytes:
    user = next(u for u in seed_users(build_catalogue()) if u.scenario == "complete")
    from datetime import UTC, datetime

    xml = render_offline_ekyc_xml(user, SimulatorPKI.create(), datetime.now(UTC), SHARE_CODE)
    return aes_zip({"offlineaadhaar.xml": xml})


Change = Callable[[bytes], bytes]


@pytest.mark.parametrize(
    ("make", "share_code", "code"),
    [
        (lambda genuine: genuine, "1111", "offline_ekyc_wrong_share_code"),
        (_tamper_ciphertext, SHARE_CODE, "offline_ekyc_tampered"),
        (
            lambda genuine: aes_zip(
                {"x.xml": inner_xml(genuine).replace(b'gender="F"', b'gender="M"')}
            ),
            SHARE_CODE,
            "offline_ekyc_tampered",
        ),
        (lambda _genuine: _resigned_by_another_pki(), SHARE_CODE, "offline_ekyc_signature_invalid"),
        (lambda _genuine: _bomb(), SHARE_CODE, "offline_ekyc_zip_bomb"),
        (lambda _genuine: _traversal(), SHARE_CODE, "offline_ekyc_unsafe_entry"),
        (lambda _genuine: b"%PDF-1.7 not a zip", SHARE_CODE, "offline_ekyc_not_zip"),
        (lambda _genuine: _plain_zip(), SHARE_CODE, "offline_ekyc_invalid"),
        (
            lambda genuine: aes_zip({"a.xml": inner_xml(genuine), "b.xml": inner_xml(genuine)}),
            SHARE_CODE,
            "offline_ekyc_invalid",
        ),
        (
            lambda _genuine: b"PK" + b"\x00" * (3 * 1024 * 1024),
            SHARE_CODE,
            "offline_ekyc_too_large",
        ),
    ],
    ids=[
        "wrong-share-code",
        "tampered-zip",
        "tampered-xml",
        "untrusted-signer",
        "zip-bomb",
        "path-traversal",
        "not-a-zip",
        "not-encrypted",
        "two-files",
        "too-large",
    ],
)
async def test_each_refusal_is_a_400_of_its_own_and_stores_nothing(
    gateway: Gateway, make: Change, share_code: str, code: str
) -> None:
    archive = make(await offline_zip(gateway))
    response = await upload(gateway, archive, share_code=share_code)
    assert_envelope(response, 400, code)
    assert SHARE_CODE not in response.text
    assert await stored(gateway) == 0
    assert blob_files(gateway) == []


async def test_a_file_older_than_the_age_limit_is_expired(gateway: Gateway) -> None:
    archive = await offline_zip(gateway)
    days = gateway.runtime.settings.aadhaar_offline_max_age_days
    gateway.clock.advance(days * 86400 - 60)
    assert (await upload(gateway, archive)).status_code == 200
    gateway.clock.advance(120)
    assert_envelope(await upload(gateway, archive), 400, "offline_ekyc_expired")


async def test_a_file_made_in_the_future_is_refused(gateway: Gateway) -> None:
    archive = await offline_zip(gateway)
    gateway.clock.advance(-3600)
    assert_envelope(await upload(gateway, archive), 400, "offline_ekyc_invalid")


@pytest.mark.parametrize(
    ("content", "kwargs"),
    [
        ({"json": {"file": "x", "shareCode": SHARE_CODE}}, {}),
        ({"data": {"shareCode": SHARE_CODE}, "files": {"other": ("a", b"1")}}, {}),
        ({"files": {"file": ("a.zip", b"PK")}}, {}),
        (
            {
                "files": {"file": ("a.zip", b"PK")},
                "data": {"shareCode": SHARE_CODE, "expected": "{"},
            },
            {},
        ),
    ],
    ids=["json-body", "no-file", "no-share-code", "bad-expected"],
)
async def test_a_body_without_the_form_fields_is_400_invalid_payload(
    gateway: Gateway, content: dict[str, Any], kwargs: dict[str, Any]
) -> None:
    response = await gateway.client.post(PATH, headers=gateway.headers, **content, **kwargs)
    assert_envelope(response, 400, "invalid_payload")
    assert await stored(gateway) == 0


async def test_upload_needs_the_three_credential_headers(gateway: Gateway) -> None:
    archive = await offline_zip(gateway)
    assert_envelope(await upload(gateway, archive, headers={}), 401, "vault_secret_error")
    assert await stored(gateway) == 0


async def test_uploaded_file_link_dies_with_the_product_instances_lifetime(
    gateway: Gateway,
) -> None:
    from digilocker_gateway.requests.tasks import purge_expired

    response = await upload(gateway, await offline_zip(gateway))
    url = response.json()["aadhaar"]["xml"]["fileUrl"]
    gateway.clock.advance(gateway.runtime.settings.request_lifetime_seconds + 1)
    await purge_expired(gateway.runtime)
    assert await stored(gateway) == 0
    assert blob_files(gateway) == []
    assert_envelope(await gateway.client.get(url), 404, "not_found")
