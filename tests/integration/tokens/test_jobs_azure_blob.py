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


async def test_one_unfinished_job_per_user_on_blobs(azurite: Any) -> None:
    settings = PlatformSettings(blob_connection_string=SecretStr(azurite.connection_string))
    container = f"jobs{uuid.uuid4().hex[:12]}"
    stores = [BlobJobStore.from_settings(settings, container=container) for _ in range(3)]
    try:
        now = datetime.now(UTC)
        jobs = [
            JobRecord(f"j{i}", 7, "on_demand", "queued", ("sleep",), None, None, now, now)
            for i in range(3)
        ]
        stale = timedelta(hours=6)
        # three replicas race for the same user: exactly one job is created
        outcomes = await asyncio.gather(
            *(s.create_exclusive(j, stale_after=stale) for s, j in zip(stores, jobs, strict=True))
        )
        created = [j for j, busy in zip(jobs, outcomes, strict=True) if busy is None]
        assert len(created) == 1
        assert {busy.job_id for busy in outcomes if busy is not None} == {created[0].job_id}
        other = JobRecord("o1", 8, "on_demand", "queued", (), None, None, now, now)
        assert await stores[0].create_exclusive(other, stale_after=stale) is None

        await stores[1].update(created[0].job_id, status="succeeded")
        again = JobRecord("j9", 7, "on_demand", "queued", (), None, None, now, now)
        assert await stores[2].create_exclusive(again, stale_after=stale) is None
        # a job that stopped progressing no longer blocks its user
        late = JobRecord("j10", 7, "on_demand", "queued", (), None, None, now, now)
        assert await stores[0].create_exclusive(late, stale_after=timedelta(0)) is None
    finally:
        for s in stores:
            await s.close()
