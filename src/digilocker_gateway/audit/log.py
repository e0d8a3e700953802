"""Append to the audit log, in the transaction of the change it records, and verify its chain.

Each product instance has its own chain: a row carries `seq` (1, 2, 3…), the hash of the row
before it, and its own hash, an HMAC-SHA256 over its content and that previous hash under a key
derived from the keyring (docs/audit.md §3). A row edited or deleted by hand breaks the chain
at that point, and the chain's head (`audit_chain_heads`) shows a deleted last row. The head row
is updated first, so appends of one product instance are serialised by its row lock
(PostgreSQL) or the write lock (SQLite) until the transaction ends.

Each process remembers the last link it wrote of each chain (`ChainHeads`), so that an append
is usually two statements: a conditional UPDATE that moves the head on from the remembered link
to the new row — it matches only if no other transaction, in any process, has moved it since —
and the row's INSERT. When the head has moved (another process appended, or the transaction
that wrote the remembered link rolled back), the UPDATE matches nothing and the append reads
the head as it is. The memory is only a guess: the chain is always decided by the database.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.base import table_of
from digilocker_gateway.db.models import AuditChainHead, AuditRecord
from digilocker_gateway.kit.leases import dialect_insert
from digilocker_gateway.storage.keys import Keyring, UnknownKeyId

# The actions the log records (docs/audit.md §2).
CONSENT_GIVEN = "consent.given"
CONSENT_DENIED = "consent.denied"
DOCUMENT_FETCHED = "document.fetched"
AADHAAR_FETCHED = "aadhaar.fetched"
FILE_DOWNLOADED = "file.downloaded"
REQUEST_REVOKED = "request.revoked"
REQUEST_EXPIRED = "request.expired"
REQUEST_PURGED = "request.purged"
WEBHOOK_ENDPOINT_DISABLED = "webhook.endpoint_disabled"

# Who did it: the API client (its id), the user at DigiLocker, or the gateway's own jobs.
GATEWAY_ACTOR = "gateway"
USER_ACTOR = "user"

CHAIN_KEY_PURPOSE = "audit-chain"


def client_actor(client_id: str) -> str:
    return f"client:{client_id}"


def canonical(details: Mapping[str, object]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _utc_text(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(key: bytes, row: AuditRecord) -> str:
    """The row's hash over everything it says, and the hash of the row before it."""
    content = json.dumps(
        [
            row.product_instance_id,
            row.seq,
            row.request_id,
            row.action,
            row.actor,
            row.details,
            _utc_text(row.created_at),
            row.key_id,
            row.prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return hmac.new(key, content, hashlib.sha256).hexdigest()


# Built once (per dialect), so SQLAlchemy keeps their cache keys (requests/service.py).
_NEXT_LINK: dict[str, Any] = {}
_SET_LAST_HASH = (
    update(AuditChainHead)
    .where(AuditChainHead.product_instance_id == bindparam("instance"))
    .values(last_hash=bindparam("new_hash"))
    .execution_options(synchronize_session=False)
)


_RECORDS = table_of(AuditRecord)
_INSERT_RECORD = insert(_RECORDS)
# Every column but the id the database assigns.
_RECORD_COLUMNS = tuple(column.key for column in _RECORDS.columns if column.key != "id")

# Moves the head from the link this process last wrote straight to the new row; it matches no
# row when the head is elsewhere.
_MOVE_HEAD = (
    update(AuditChainHead)
    .where(
        AuditChainHead.product_instance_id == bindparam("instance"),
        AuditChainHead.last_seq == bindparam("known_seq"),
        AuditChainHead.last_hash == bindparam("known_hash"),
    )
    .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
    .execution_options(synchronize_session=False)
)


class ChainHeads:
    """The last link (seq, hash) this process wrote of each product instance's chain: a guess
    that spares reading the head, checked by the database at every append.

    While one append of a chain is between its first statement and its last, another append
    of the same chain in this process cannot know where the first will leave the head (the
    statements may reach the database in either order), so it does not guess: it reads the
    head, waiting for the first's lock."""

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self._max = max_entries
        self._links: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._appending: dict[str, int] = {}

    @contextmanager
    def appending(self, product_instance_id: str) -> Iterator[tuple[int, str] | None]:
        """The remembered link to chain to, or None when there is none or another append of
        the chain is under way in this process."""
        others = self._appending.get(product_instance_id, 0)
        self._appending[product_instance_id] = others + 1
        try:
            yield None if others else self._links.get(product_instance_id)
        finally:
            left = self._appending[product_instance_id] - 1
            if left:
                self._appending[product_instance_id] = left
            else:
                del self._appending[product_instance_id]

    def put(self, product_instance_id: str, seq: int, row_hash: str) -> None:
        self._links[product_instance_id] = (seq, row_hash)
        self._links.move_to_end(product_instance_id)
        while len(self._links) > self._max:
            self._links.popitem(last=False)


def _next_link(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING that takes the next link of a chain: creates
    the head at a chain's first row, else moves it on."""
    dialect = session.get_bind().dialect.name
    statement = _NEXT_LINK.get(dialect)
    if statement is None:
        statement = _NEXT_LINK[dialect] = (
            dialect_insert(session, AuditChainHead)
            .values(
                product_instance_id=bindparam("instance"),
                last_seq=1,
                last_hash="",
                pruned_through_seq=0,
                pruned_hash="",
            )
            .on_conflict_do_update(
                index_elements=[AuditChainHead.product_instance_id],
                set_={"last_seq": AuditChainHead.last_seq + 1},
            )
            .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)
        )
    return statement


async def append(
    session: AsyncSession,
    keyring: Keyring,
    *,
    product_instance_id: str,
    request_id: str | None,
    action: str,
    actor: str,
    details: Mapping[str, object],
    now: datetime,
    heads: ChainHeads | None = None,
) -> AuditRecord:
    """Add one row to the product instance's chain. Never put personal data in `details`.
    With `heads` (the runtime's), the append usually skips reading the chain's head."""
    key_id = keyring.active_id
    key = keyring.subkey(CHAIN_KEY_PURPOSE, key_id)
    row = AuditRecord(
        product_instance_id=product_instance_id,
        request_id=request_id,
        action=action,
        actor=actor,
        details=canonical(details),
        created_at=now.astimezone(UTC),
        key_id=key_id,
    )
    parameters = {"instance": product_instance_id}
    with heads.appending(product_instance_id) if heads is not None else nullcontext() as known:
        moved = False
        if known is not None:
            row.seq, row.prev_hash = known[0] + 1, known[1]
            row.hash = row_hash(key, row)
            result = await session.execute(
                _MOVE_HEAD,
                {
                    **parameters,
                    "known_seq": known[0],
                    "known_hash": known[1],
                    "new_seq": row.seq,
                    "new_hash": row.hash,
                },
            )
            moved = getattr(result, "rowcount", 0) == 1
        if not moved:
            # One statement takes the next link: it creates the head on a chain's first row,
            # else moves it on. It writes the head before reading it back, so the head is
            # locked (PostgreSQL's row lock, SQLite's write lock) until the transaction ends:
            # two transactions of one product instance cannot both chain to the same row.
            link = (await session.execute(_next_link(session), parameters)).one()
            row.seq, row.prev_hash = link
            row.hash = row_hash(key, row)
            await session.execute(_SET_LAST_HASH, {**parameters, "new_hash": row.hash})
        if heads is not None:
            heads.put(product_instance_id, row.seq, row.hash)
    # Through the table, not the session's unit of work: the row is never changed after this,
    # and a flush of one new object costs more than the statement itself.
    await session.execute(_INSERT_RECORD, {name: getattr(row, name) for name in _RECORD_COLUMNS})
    return row


def client_ip_for_audit(
    ip: str | None, *, mode: Literal["truncate", "hash", "none"], key: bytes
) -> str:
    """The caller's address as the log keeps it: cut to its network (IPv4 /24, IPv6 /48), a
    keyed hash (the same address gives the same value, which cannot be reversed), or nothing."""
    if not ip or mode == "none":
        return ""
    if mode == "hash":
        return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()[:16]
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass
class ChainReport:
    """What `verify_chains` found: rows checked, and each break, in words."""

    rows: int = 0
    chains: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


async def verify_chains(
    session: AsyncSession, keyring: Keyring, *, product_instance_id: str | None = None
) -> ChainReport:
    """Walk every chain (or one product instance's) and report each row that was edited, each
    run of rows that is missing, and a chain whose newest rows were removed. Rows are streamed,
    so `session` must be in a transaction (PostgreSQL's cursors live only inside one)."""
    report = ChainReport()
    heads_query = select(AuditChainHead)
    if product_instance_id is not None:
        heads_query = heads_query.where(AuditChainHead.product_instance_id == product_instance_id)
    heads = {head.product_instance_id: head for head in (await session.scalars(heads_query))}
    owners_query = select(AuditRecord.product_instance_id).distinct()
    if product_instance_id is not None:
        owners_query = owners_query.where(AuditRecord.product_instance_id == product_instance_id)
    owners = set(heads) | set((await session.scalars(owners_query)).all())
    keys: dict[str, bytes] = {}
    for owner in sorted(owners):
        report.chains += 1
        head = heads.get(owner)
        if head is None:
            report.problems.append(f"{owner}: rows without a chain head")
            continue
        expected_seq = head.pruned_through_seq + 1
        expected_prev = head.pruned_hash
        rows = await session.stream_scalars(
            select(AuditRecord)
            .where(AuditRecord.product_instance_id == owner)
            .order_by(AuditRecord.seq)
            .execution_options(yield_per=500)
        )
        async for row in rows:
            report.rows += 1
            if row.seq != expected_seq:
                report.problems.append(
                    f"{owner}: rows {expected_seq}..{row.seq - 1} are missing"
                    if row.seq > expected_seq
                    else f"{owner}: row {row.seq} is out of order"
                )
            elif row.prev_hash != expected_prev:
                report.problems.append(f"{owner}: row {row.seq} does not chain to the row before")
            if row.key_id not in keys:
                try:
                    keys[row.key_id] = keyring.subkey(CHAIN_KEY_PURPOSE, row.key_id)
                except UnknownKeyId:
                    report.problems.append(f"{owner}: row {row.seq} is under unknown key")
                    expected_seq, expected_prev = row.seq + 1, row.hash
                    continue
            if not hmac.compare_digest(row_hash(keys[row.key_id], row), row.hash):
                report.problems.append(f"{owner}: row {row.seq} was altered")
            expected_seq, expected_prev = row.seq + 1, row.hash
        if expected_seq - 1 != head.last_seq or expected_prev != head.last_hash:
            report.problems.append(
                f"{owner}: the chain ends at row {expected_seq - 1}, its head at {head.last_seq}"
            )
    return report
