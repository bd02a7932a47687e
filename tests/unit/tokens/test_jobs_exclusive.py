"""SqliteJobStore.create_exclusive: one unfinished sync job per user, atomic across processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.jobs import JobRecord, SqliteJobStore

STALE = timedelta(hours=6)


def _job(job_id: str, user_id: int = 7) -> JobRecord:
    now = datetime.now(UTC)
    return JobRecord(job_id, user_id, "on_demand", "queued", ("sleep",), None, None, now, now)


async def test_only_one_of_concurrent_requests_creates_a_job(tmp_path: Path) -> None:
    stores = [SqliteJobStore(tmp_path / "state.sqlite3") for _ in range(4)]
    outcomes = await asyncio.gather(
        *(s.create_exclusive(_job(f"j{i}"), stale_after=STALE) for i, s in enumerate(stores))
    )
    winners = [i for i, busy in enumerate(outcomes) if busy is None]
    assert len(winners) == 1
    assert {b.job_id for b in outcomes if b is not None} == {f"j{winners[0]}"}
    assert await stores[0].create_exclusive(_job("other", user_id=8), stale_after=STALE) is None


async def test_finished_or_stale_jobs_do_not_block(tmp_path: Path) -> None:
    store = SqliteJobStore(tmp_path / "state.sqlite3")
    assert await store.create_exclusive(_job("a"), stale_after=STALE) is None
    await store.update("a", status="running")
    busy = await store.create_exclusive(_job("b"), stale_after=STALE)
    assert busy is not None and busy.job_id == "a" and busy.status == "running"
    assert await store.create_exclusive(_job("c"), stale_after=timedelta(0)) is None  # stale
    await store.update("c", status="failed")
    await store.update("a", status="succeeded")
    assert await store.create_exclusive(_job("d"), stale_after=STALE) is None
