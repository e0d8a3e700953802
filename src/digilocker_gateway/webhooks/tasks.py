"""`webhooks.prune`: drop webhook events past their retention, and audit rows past theirs
(each has its own setting, independent of the request's lifetime)."""

from __future__ import annotations

import logging

from digilocker_gateway.audit.export import prune as prune_audit
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.webhooks.delivery import prune_events

logger = logging.getLogger("digilocker_gateway.webhooks")


async def prune_webhooks_and_audit(runtime: Runtime) -> tuple[int, int]:
    events = await prune_events(runtime)
    async with runtime.transaction() as session:
        audit_rows = await prune_audit(
            session,
            now=runtime.clock.now(),
            retention_days=runtime.settings.audit_retention_days,
        )
    if events or audit_rows:
        logger.info("pruned %d webhook events and %d audit rows", events, audit_rows)
    return events, audit_rows
