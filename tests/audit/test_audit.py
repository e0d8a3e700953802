"""The audit log: a row for each cause, listed per request (also after purge), exported as
JSON Lines and CSV, pruned by its own retention, and a chain that shows edits and deletions."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select, update

from digilocker_gateway.audit.export import prune
from digilocker_gateway.audit.log import ChainHeads, append, client_ip_for_audit, verify_chains
from digilocker_gateway.cli import main
from digilocker_gateway.db.engine import count_statements
from digilocker_gateway.db.models import AuditChainHead, AuditRecord
from digilocker_gateway.requests.tasks import purge_expired
from tests.documents.test_fetch import fetch, fetch_body, pick
from tests.requests.test_create import assert_envelope
from tests.support import DatabaseUnderTest, Gateway, walk_journey
from tests.webhooks.test_events import consented


async def audit_of(gateway: Gateway, request_id: str) -> list[dict[str, Any]]:
    response = await gateway.client.get(
        f"/api/digilocker/{request_id}/audit", headers=gateway.headers
    )
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


async def test_each_consent_and_access_writes_its_row_and_outlives_the_purge(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await consented(gateway)
    document = pick(user, issued=True)
    fetched = await fetch(gateway, request_id, fetch_body(document))
    assert fetched.status_code == 200
    download = await gateway.client.get(fetched.json()["fileUrl"])
    assert download.status_code == 200
    aadhaar = await gateway.client.get(
        f"/api/digilocker/{request_id}/aadhaar", headers=gateway.headers
    )
    assert aadhaar.status_code == 200
    await gateway.client.get(f"/api/digilocker/{request_id}/revoke", headers=gateway.headers)
    denied = await walk_journey(gateway, decision="deny")

    records = await audit_of(gateway, request_id)
    assert [record["action"] for record in records] == [
        "consent.given",
        "document.fetched",
        "file.downloaded",
        "aadhaar.fetched",
        "request.revoked",
    ]
    given, fetched_row, downloaded, _, revoked = records
    assert given["actor"] == "user"
    assert document["docType"] in given["details"]["docTypes"]
    assert given["details"]["requestValidUpto"].endswith("+05:30")
    client_id = gateway.headers["x-client-id"]
    assert fetched_row["actor"] == revoked["actor"] == f"client:{client_id}"
    assert fetched_row["details"]["docType"] == document["docType"]
    assert fetched_row["details"]["orgId"] == document["orgId"]
    assert fetched_row["details"]["traceId"] == fetched.headers["x-trace-id"]
    # ASGI test clients come from 127.0.0.1: kept only as its /24 by default.
    assert downloaded["details"]["clientIp"] == "127.0.0.0/24"
    assert [r["action"] for r in await audit_of(gateway, denied.request_id)] == ["consent.denied"]
    text = json.dumps(records)
    personal = [user[key] for key in ("aadhaar", "mobile", "email", "name") if user.get(key)]
    assert len(personal) >= 3
    for value in personal:
        assert str(value) not in text

    gateway.clock.advance(2 * 24 * 3600)
    await purge_expired(gateway.runtime)
    after = await audit_of(gateway, request_id)
    assert [record["action"] for record in after][-2:] == ["request.expired", "request.purged"]
    assert after[:5] == records
    async with gateway.runtime.transaction() as session:
        assert (await verify_chains(session, gateway.runtime.keyring)).intact


async def test_another_product_instance_cannot_read_a_requests_audit(gateway: Gateway) -> None:
    created = await gateway.create_request()
    assert await audit_of(gateway, created["id"]) == []
    other = await gateway.new_client_headers(name="other")
    response = await gateway.client.get(f"/api/digilocker/{created['id']}/audit", headers=other)
    assert_envelope(response, 404, "request_not_found")


async def write_rows(
    gateway: Gateway, count: int, *, instance: str = "pi-1", heads: ChainHeads | None = None
) -> None:
    async with gateway.runtime.transaction() as session:
        for index in range(count):
            await append(
                session,
                gateway.runtime.keyring,
                product_instance_id=instance,
                request_id=None,
                action="document.fetched",
                actor="client:test",
                details={"docType": "PANCR", "n": index},
                now=gateway.clock.now(),
                heads=heads,
            )
            gateway.clock.advance(1)


async def problems(gateway: Gateway) -> list[str]:
    async with gateway.runtime.transaction() as session:
        return (await verify_chains(session, gateway.runtime.keyring)).problems


async def test_verify_finds_an_edited_row_a_deleted_row_and_a_deleted_last_row(
    gateway: Gateway,
) -> None:
    await write_rows(gateway, 5)
    await write_rows(gateway, 2, instance="pi-2")
    assert await problems(gateway) == []

    async with gateway.runtime.transaction() as session:
        await session.execute(
            update(AuditRecord)
            .where(AuditRecord.product_instance_id == "pi-1", AuditRecord.seq == 2)
            .values(details='{"docType":"ADHAR","n":1}')
        )
    assert await problems(gateway) == ["pi-1: row 2 was altered"]

    async with gateway.runtime.transaction() as session:
        await session.execute(
            delete(AuditRecord).where(
                AuditRecord.product_instance_id == "pi-1", AuditRecord.seq == 4
            )
        )
        await session.execute(
            delete(AuditRecord).where(
                AuditRecord.product_instance_id == "pi-2", AuditRecord.seq == 2
            )
        )
    assert await problems(gateway) == [
        "pi-1: row 2 was altered",
        "pi-1: rows 4..4 are missing",
        "pi-2: the chain ends at row 1, its head at 2",
    ]


async def test_pruned_rows_leave_a_chain_that_still_verifies(gateway: Gateway) -> None:
    await write_rows(gateway, 3)
    gateway.clock.advance(10 * 24 * 3600)
    await write_rows(gateway, 2)
    async with gateway.runtime.transaction() as session:
        removed = await prune(session, now=gateway.clock.now(), retention_days=5)
    assert removed == 3
    assert await problems(gateway) == []


async def seqs_of(gateway: Gateway, instance: str) -> list[int]:
    async with gateway.runtime.transaction() as session:
        found = await session.execute(
            select(AuditRecord.seq)
            .where(AuditRecord.product_instance_id == instance)
            .order_by(AuditRecord.seq)
        )
        return list(found.scalars())


async def test_appends_from_two_processes_remembering_their_own_heads_keep_one_chain(
    gateway: Gateway,
) -> None:
    # Each process remembers only the links it wrote: after the other one appends, its guess
    # is stale and the append reads the head instead of forking the chain.
    first, second = ChainHeads(), ChainHeads()
    for heads in (first, first, second, first, second, second, first):
        await write_rows(gateway, 2, heads=heads)
    assert await seqs_of(gateway, "pi-1") == list(range(1, 15))
    assert await problems(gateway) == []


def test_a_second_append_under_way_in_the_process_does_not_guess_the_head() -> None:
    heads = ChainHeads()
    heads.put("pi-1", 4, "h4")
    with heads.appending("pi-1") as first:
        assert first == (4, "h4")
        with heads.appending("pi-1") as second, heads.appending("pi-2") as other:
            assert second is None
            assert other is None  # nothing remembered for that chain
    with heads.appending("pi-1") as later:
        assert later == (4, "h4")


async def test_concurrent_appends_of_one_process_keep_one_chain(gateway: Gateway) -> None:
    heads = ChainHeads()
    await write_rows(gateway, 1, heads=heads)
    await asyncio.gather(*(write_rows(gateway, 3, heads=heads) for _ in range(8)))
    assert await seqs_of(gateway, "pi-1") == list(range(1, 26))
    assert await problems(gateway) == []


async def test_a_remembered_head_from_a_rolled_back_append_is_not_chained_to(
    gateway: Gateway,
) -> None:
    heads = ChainHeads()
    await write_rows(gateway, 2, heads=heads)

    async def append_then_fail() -> None:
        async with gateway.runtime.transaction() as session:
            await append(
                session,
                gateway.runtime.keyring,
                product_instance_id="pi-1",
                request_id=None,
                action="document.fetched",
                actor="client:test",
                details={},
                now=gateway.clock.now(),
                heads=heads,
            )
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await append_then_fail()
    with heads.appending("pi-1") as remembered:
        assert remembered is not None
        assert remembered[0] == 3
    await write_rows(gateway, 2, heads=heads)
    assert await seqs_of(gateway, "pi-1") == [1, 2, 3, 4]
    assert await problems(gateway) == []


async def test_an_append_on_a_remembered_head_is_one_update_and_one_insert(
    gateway: Gateway,
) -> None:
    heads = ChainHeads()
    await write_rows(gateway, 1, heads=heads)
    counted = {"statements": 0}

    def statement() -> None:
        counted["statements"] += 1

    count_statements(gateway.runtime.engine, statement=statement, commit=lambda: None)
    await write_rows(gateway, 3, heads=heads)
    assert counted["statements"] == 6
    async with gateway.runtime.transaction() as session:
        head = await session.get(AuditChainHead, "pi-1")
        assert head is not None
        with heads.appending("pi-1") as remembered:
            assert (head.last_seq, head.last_hash) == remembered
    assert await problems(gateway) == []


async def test_appends_on_remembered_heads_after_a_prune_still_verify(gateway: Gateway) -> None:
    heads = ChainHeads()
    await write_rows(gateway, 3, heads=heads)
    gateway.clock.advance(10 * 24 * 3600)
    async with gateway.runtime.transaction() as session:
        assert await prune(session, now=gateway.clock.now(), retention_days=5) == 3
    await write_rows(gateway, 2, heads=heads)
    assert await seqs_of(gateway, "pi-1") == [4, 5]
    assert await problems(gateway) == []


def test_client_ip_is_truncated_hashed_or_dropped() -> None:
    key = b"k" * 32
    assert client_ip_for_audit("203.0.113.77", mode="truncate", key=key) == "203.0.113.0/24"
    assert client_ip_for_audit("2001:db8:1:2::9", mode="truncate", key=key) == "2001:db8:1::/48"
    hashed = client_ip_for_audit("203.0.113.77", mode="hash", key=key)
    assert len(hashed) == 16
    assert "203" not in hashed
    assert hashed == client_ip_for_audit("203.0.113.77", mode="hash", key=key)
    assert client_ip_for_audit("203.0.113.77", mode="none", key=key) == ""


def cli(database: DatabaseUnderTest, data_dir: Path, *arguments: str) -> Result:
    env = {"DLG_DATA_DIR": str(data_dir), "DLG_DATABASE_URL": database.url}
    if database.schema:
        env["DLG_DATABASE_SCHEMA"] = database.schema
    return CliRunner().invoke(main, list(arguments), env=env)


async def test_export_in_both_formats_and_verify_from_the_command_line(
    gateway: Gateway, database: DatabaseUnderTest, tmp_path: Path
) -> None:
    await write_rows(gateway, 3)
    out = tmp_path / "audit.csv"

    jsonl = await asyncio.to_thread(cli, database, tmp_path, "audit", "export")
    assert jsonl.exit_code == 0, jsonl.output
    rows = [json.loads(line) for line in jsonl.stdout.splitlines() if line.startswith("{")]
    assert [row["seq"] for row in rows] == [1, 2, 3]
    assert rows[1]["prevHash"] == rows[0]["hash"]
    assert rows[0]["details"] == {"docType": "PANCR", "n": 0}

    since = rows[1]["createdAt"]
    done = await asyncio.to_thread(
        cli, database, tmp_path, "audit", "export", "--format", "csv", "--since", since,
        "--output", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [row["seq"] for row in table] == ["2", "3"]
    assert json.loads(table[0]["details"]) == {"docType": "PANCR", "n": 1}

    intact = await asyncio.to_thread(cli, database, tmp_path, "audit", "verify")
    assert intact.exit_code == 0, intact.output
    assert "audit log intact: 3 rows in 1 chain(s)" in intact.output
    async with gateway.runtime.transaction() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(actor="x"))
    broken = await asyncio.to_thread(cli, database, tmp_path, "audit", "verify")
    assert broken.exit_code == 1
    assert "pi-1: row 3 was altered" in broken.output
