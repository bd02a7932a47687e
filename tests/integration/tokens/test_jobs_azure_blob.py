"""BlobJobStore on Azurite: create is idempotent, concurrent progress updates never get lost."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from shared.adapters.jobs_azure import BlobJobStore
from shared.jobs import JobRecord
from shared.settings import PlatformSettings


async def test_jobs_and_status_on_blobs(azurite: Any) -> None:
    settings = PlatformSettings(blob_connection_string=SecretStr(azurite.connection_string))
    container = f"jobs{uuid.uuid4().hex[:12]}"
    stores = [BlobJobStore.from_settings(settings, container=container) for _ in range(3)]
    a = stores[0]
    try:
        now = datetime.now(UTC)
        job = JobRecord("j1", 7, "on_demand", "queued", ("sleep",), None, None, now, now)
        await a.create(job)
        await a.create(JobRecord("j1", 8, "x", "failed", (), None, None, now, now))  # no-op
        # Three "replicas" add pages concurrently: optimistic concurrency loses none.
        await asyncio.gather(
            *(s.update("j1", pages_delta=1, records_delta=5) for s in stores for _ in range(4))
        )
        await a.update("j1", status="succeeded", windows_done=2)
        got = await stores[1].get("j1")
        assert got is not None and got.user_id == 7 and got.status == "succeeded"
        assert got.pages == 12 and got.records == 60 and got.windows_done == 2
        assert await a.get("missing") is None

        old, new = now - timedelta(days=2), now - timedelta(days=1)
        await a.record_sync(7, "sleep", at=now, latest_record_at=new)
        await a.record_sync(7, "sleep", at=now, latest_record_at=old)  # never moves back
        await a.record_sync(7, "cycle", at=now, latest_record_at=None)
        status = {s.resource: s for s in await stores[2].sync_status(7)}
        assert set(status) == {"cycle", "sleep"}
        assert status["sleep"].latest_record_at == new and status["cycle"].latest_record_at is None
    finally:
        for s in stores:
            await s.close()
