"""`keys rewrap`: after a rotation, stored tokens, partner secrets and files move to the new key
so the old one can be removed; client secret hashes are reported, not moved."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select, update

from digilocker_gateway.cli import main
from digilocker_gateway.db.models import ProductInstance, RequestRecord, StoredFile
from digilocker_gateway.requests.files import blob_key_for
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.runtime_build import build_runtime, close_runtime
from digilocker_gateway.storage.encryption import text_key_id
from digilocker_gateway.storage.rewrap import rewrap_all
from digilocker_gateway.storage.sealed import (
    ACCESS_TOKEN,
    DIGILOCKER_ID,
    EMAIL,
    PARTNER_SECRET,
    PHONE_NUMBER,
    PKCE_VERIFIER,
    REFRESH_TOKEN,
    SealedField,
)
from tests.support import DatabaseUnderTest, gateway_settings, running_gateway, walk_journey

OLD = f"old:{base64.b64encode(b'o' * 32).decode()}"
NEW = f"new:{base64.b64encode(b'n' * 32).decode()}"
DOCUMENT = b"%PDF-1.4 synthetic document for a rotation test\n" * 100


async def _chunks(data: bytes) -> Any:
    yield data


async def _stored_values(runtime: Runtime) -> list[tuple[SealedField, str, str]]:
    """(field, row id, ciphertext) of every encrypted column in the database."""
    found: list[tuple[SealedField, str, str]] = []
    async with runtime.sessions() as session:
        requests = (await session.execute(select(RequestRecord))).scalars().all()
        instances = (await session.execute(select(ProductInstance))).scalars().all()
    for row in requests:
        for field in (
            PKCE_VERIFIER,
            ACCESS_TOKEN,
            REFRESH_TOKEN,
            DIGILOCKER_ID,
            EMAIL,
            PHONE_NUMBER,
        ):
            value = getattr(row, f"{field.name}_enc")
            if value is not None:
                found.append((field, row.id, value))
    for instance in instances:
        found.append((PARTNER_SECRET, instance.id, instance.digilocker_client_secret_enc))
    return found


async def _runtime(database: DatabaseUnderTest, data_dir: Path, keys: str, active: str) -> Runtime:
    settings = gateway_settings(
        database, data_dir, encryption_keys=keys, encryption_active_key_id=active
    )
    return await build_runtime(settings, check_schema=False)


async def _old_key_world(database: DatabaseUnderTest, data_dir: Path) -> tuple[str, str]:
    """An authenticated request with a stored file, all under the old key. Returns the blob key
    and the request id."""
    async with running_gateway(database, data_dir, encryption_keys=OLD) as gateway:
        journey = await walk_journey(gateway)
        assert journey.final_query["success"] == "true"
        runtime = gateway.runtime
        blob_key = blob_key_for(journey.request_id)
        info = await runtime.blobs.put(blob_key, _chunks(DOCUMENT), content_type="application/pdf")
        async with runtime.transaction() as session:
            session.add(
                StoredFile(
                    id=str(uuid.uuid4()),
                    request_id=journey.request_id,
                    blob_key=blob_key,
                    kind="document",
                    content_type="application/pdf",
                    size=info.size,
                    doc_type="PANCR",
                    org_id="000000",
                    created_at=gateway.clock.now(),
                    valid_upto=gateway.clock.now() + timedelta(hours=1),
                )
            )
    return blob_key, journey.request_id


async def test_rewrap_moves_tokens_secrets_and_files_so_the_old_key_can_go(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    blob_key, _ = await _old_key_world(database, tmp_path)
    rotated = await _runtime(database, tmp_path, f"{NEW},{OLD}", "new")
    try:
        before = await _stored_values(rotated)
        assert {text_key_id(value) for _, _, value in before} == {"old"}
        assert {ACCESS_TOKEN, REFRESH_TOKEN, PARTNER_SECRET} <= {f for f, _, _ in before}
        report = await rewrap_all(rotated)
        again = await rewrap_all(rotated)
    finally:
        await close_runtime(rotated)

    assert report.values == len(before)
    assert report.files == 1
    assert report.unreadable == 0
    # The API client's secret hash stays under "old": a keyed hash cannot be resealed.
    assert report.client_hashes_by_key == {"old": 1}
    assert sorted(report.client_hashes_by_key) == ["old"]
    assert again.values == 0

    new_only = await _runtime(database, tmp_path, NEW, "new")
    try:
        after = await _stored_values(new_only)
        assert {text_key_id(value) for _, _, value in after} == {"new"}
        plain_before = {(c, f) for c, f, _ in before}
        assert {(c, f) for c, f, _ in after} == plain_before
        for field, row_id, value in after:
            assert new_only.sealed.open(field, row_id, value)
        stored = b"".join([chunk async for chunk in await new_only.blobs.open(blob_key)])
        assert stored == DOCUMENT
    finally:
        await close_runtime(new_only)


async def test_rewrap_without_the_old_key_counts_values_unreadable_and_changes_nothing(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    await _old_key_world(database, tmp_path)
    too_early = await _runtime(database, tmp_path, NEW, "new")
    try:
        before = await _stored_values(too_early)
        report = await rewrap_all(too_early, include_files=False)
        after = await _stored_values(too_early)
    finally:
        await close_runtime(too_early)

    assert report.values == 0
    assert report.unreadable == len(before)
    assert after == before


async def test_rewrap_leaves_a_value_replaced_meanwhile_untouched(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    _, request_id = await _old_key_world(database, tmp_path)
    rotated = await _runtime(database, tmp_path, f"{NEW},{OLD}", "new")
    try:
        # A revoke by a live process clears the tokens between rewrap's read and its write;
        # simulated by clearing them first: rewrap must not bring them back.
        async with rotated.transaction() as session:
            await session.execute(
                update(RequestRecord)
                .where(RequestRecord.id == request_id)
                .values(access_token_enc=None, refresh_token_enc=None)
            )
        await rewrap_all(rotated, include_files=False)
        async with rotated.sessions() as session:
            row = await session.get(RequestRecord, request_id)
    finally:
        await close_runtime(rotated)

    assert row is not None
    assert (row.access_token_enc, row.refresh_token_enc) == (None, None)


def test_keys_rewrap_command_reports_resealed_values_and_keys_still_needed(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    env = {
        "DLG_DATA_DIR": str(tmp_path),
        "DLG_ENCRYPTION_KEYS": OLD,
        "DLG_CATALOGUE_REFRESH_ON_START": "false",
    }
    created = runner.invoke(main, ["admin", "create-client", "--create", "--json"], env=env)
    assert created.exit_code == 0, created.output
    assert set(json.loads(created.stdout)) == {
        "x-client-id",
        "x-client-secret",
        "x-product-instance-id",
    }

    rotated = {**env, "DLG_ENCRYPTION_KEYS": f"{NEW},{OLD}", "DLG_ENCRYPTION_ACTIVE_KEY_ID": "new"}
    result = runner.invoke(main, ["keys", "rewrap"], env=rotated)
    assert result.exit_code == 0, result.output
    assert "resealed under key 'new': 1 values, 0 files" in result.output
    assert "key 'old' is still needed by 1 API client secret(s)" in result.output
