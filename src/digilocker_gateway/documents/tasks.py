"""`documents.refresh_catalogue`: walk DigiLocker's meta-APIs and replace the stored catalogue."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from digilocker_gateway.db.models import CatalogueSnapshot
from digilocker_gateway.documents.catalogue import (
    ProgressCallback,
    fetch_catalogue,
    store_catalogue,
)
from digilocker_gateway.runtime import Runtime

logger = logging.getLogger("digilocker_gateway.catalogue")


async def refresh_catalogue(runtime: Runtime, *, progress: ProgressCallback | None = None) -> int:
    """Fetch first, then replace in one transaction: a failure keeps the previous copy."""
    documents = await fetch_catalogue(
        runtime.upstream(None),
        concurrency=runtime.settings.catalogue_refresh_concurrency,
        progress=progress,
    )
    async with runtime.transaction() as session:
        await store_catalogue(session, documents, now=runtime.clock.now())
    runtime.catalogue.invalidate()  # this process serves the new copy at once
    logger.info("catalogue refreshed: %d documents", len(documents))
    return len(documents)


async def catalogue_due(runtime: Runtime) -> bool:
    async with runtime.reading() as session:
        refreshed: datetime | None = (
            await session.execute(select(CatalogueSnapshot.refreshed_at))
        ).scalar_one_or_none()
    if refreshed is None:
        return runtime.settings.catalogue_refresh_on_start
    interval = timedelta(seconds=runtime.settings.catalogue_refresh_interval_seconds)
    return refreshed + interval <= runtime.clock.now()
