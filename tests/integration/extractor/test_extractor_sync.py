"""Backfill/sync against the simulator: complete, raw, within limits, through every fault."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from extractor_harness import Harness, full_sync, make_harness, visible

from extractor.settings import ExtractorSettings
from shared.contracts import Resource
from shared.whoop_ratelimit import RateLimits, SqliteRateLimiter
from whoop_simulator.config import SimulatorConfig

COLLECTIONS = ("cycle", "sleep", "recovery", "workout")


def key_of(resource: str, record: dict[str, Any]) -> str:
    return str(record["cycle_id"] if resource == "recovery" else record["id"])


async def assert_bronze_matches_simulator(h: Harness) -> None:
    for resource in COLLECTIONS:
        got = {key_of(resource, r): r for r in await h.lines(resource)}
        want = visible(h, resource)
        assert set(got) == set(want), resource
        for key, record in want.items():
            assert got[key] == record  # exactly as served, nothing added or dropped


async def test_backfill_writes_every_record_raw_with_metadata(harness: Harness) -> None:
    result = await full_sync(harness)
    await assert_bronze_matches_simulator(harness)
    infos = [i async for i in harness.blobs.list("bronze/whoop/sleep/")]
    assert infos and all(i.path.endswith(".ndjson.gz") for i in infos)
    meta = infos[0].metadata
    assert meta["user_id"] == str(harness.user_id) and meta["resource"] == "sleep"
    assert meta["job_id"] == "job1" and {
        "window_start",
        "window_end",
        "fetched_at",
        "trace_id",
    } <= set(meta)
    # Compact serialisation of the served bytes: the line equals WHOOP's own encoding.
    raw = gzip.decompress(await harness.blobs.get(infos[0].path)).decode().splitlines()[0]
    assert raw == json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False)
    # Every data request paged with limit=25 and fixed bounds.
    data = [r for r in harness.requests if "/developer/v2/" in r.url.path]
    assert all(r.url.params["limit"] == "25" for r in data)
    assert result.pages == len(data)
    job = await harness.app.jobs.get("job1")
    assert job is not None and job.status == "succeeded" and job.pages == result.pages
    status = {s.resource for s in await harness.app.jobs.sync_status(harness.user_id)}
    assert set(COLLECTIONS) <= status


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 0.35, "error_status": 503},
        {"error_rate": 0.35, "error_status": 500},
        {"truncate_rate": 0.35},
        {"timeout_rate": 0.35, "timeout_s": 0.01},
        {"latency_ms": 15},
    ],
    ids=["503", "500", "truncated", "timeout", "latency"],
)
async def test_backfill_survives_injected_faults(harness: Harness, faults: dict[str, Any]) -> None:
    await harness.admin("PUT", "/admin/faults", json=faults)
    await full_sync(harness)
    await harness.admin("DELETE", "/admin/faults")
    await assert_bronze_matches_simulator(harness)
    stats = harness.app.extractor.client.stats
    if "latency_ms" not in faults:
        assert stats.retries > 0


class FakeTime:
    """One clock for the simulator's rate windows and our limiter's sleeps."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_429_from_small_limits_waits_for_reset(tmp_path: Path) -> None:
    t = FakeTime()
    cfg = SimulatorConfig(
        seed=11, n_users=1, history_days=40, future_days=0, rate_limit_per_minute=3
    )
    # Our limiter believes in 1000/min: WHOOP's 429 + X-RateLimit-Reset must correct it.
    limiter = SqliteRateLimiter(
        tmp_path / "rl.db", RateLimits(1000, 100_000), clock=t, sleep=t.sleep
    )
    h, _ = await make_harness(tmp_path, sim_config=cfg, limiter=limiter, sim_clock=t)
    try:
        # Another client of the same app burns the window first (our log cannot know).
        pair = await h.tokens.load_tokens(h.user_id)
        assert pair is not None
        for _ in range(3):
            await h.http.get(
                "/developer/v2/user/profile/basic",
                headers={"Authorization": f"Bearer {pair.access_token}"},
            )
        await full_sync(h)
        await assert_bronze_matches_simulator(h)
        assert h.app.extractor.client.stats.throttled > 0
        assert h.app.extractor.client.stats.by_status[429] == 1  # then it waited for Reset
    finally:
        await h.app.close()
        await h.http.aclose()


async def test_matching_limiter_never_sees_429(tmp_path: Path) -> None:
    t = FakeTime()
    cfg = SimulatorConfig(
        seed=11, n_users=1, history_days=40, future_days=0, rate_limit_per_minute=3
    )
    limiter = SqliteRateLimiter(tmp_path / "rl.db", RateLimits(3, 100_000), clock=t, sleep=t.sleep)
    h, _ = await make_harness(tmp_path, sim_config=cfg, limiter=limiter, sim_clock=t)
    try:
        start = t.now
        await full_sync(h)
        assert h.app.extractor.client.stats.throttled == 0
        pages = h.app.extractor.client.stats.requests
        assert pages > 3 and t.now - start >= 60 * (pages // 3 - 1)
    finally:
        await h.app.close()
        await h.http.aclose()


class Crash(Exception):
    """Stands in for kill -9 in the middle of a backfill."""


async def test_backfill_resumes_without_refetching_finished_pages(tmp_path: Path) -> None:
    h, _ = await make_harness(
        tmp_path, settings=ExtractorSettings(backfill_window_days=10, backoff_base_s=0.0)
    )
    try:
        real_put = h.blobs.put
        puts = 0

        async def crashing_put(*args: Any, **kwargs: Any) -> Any:
            nonlocal puts
            puts += 1
            if puts == 7:
                raise Crash
            return await real_put(*args, **kwargs)

        h.blobs.put = crashing_put  # type: ignore[method-assign]
        now = datetime.now(UTC)
        start = now - timedelta(days=60)
        with pytest.raises(Crash):
            await h.app.extractor.sync(h.user_id, start, now, job_id="bf")
        first = [_page_id(r) for r in h.requests]
        h.requests.clear()
        h.blobs.put = real_put  # type: ignore[method-assign]
        result = await h.app.extractor.sync(h.user_id, start, now, job_id="bf")
        second = [_page_id(r) for r in h.requests]
        # Only the page in flight at the crash is fetched again; finished pages never are.
        assert set(first[:-1]).isdisjoint(second)
        assert first[-1] in second
        assert result.windows_skipped > 0
        await assert_bronze_matches_simulator(h)
    finally:
        await h.app.close()
        await h.http.aclose()


def _page_id(request: Any) -> tuple[str, str, str, str]:
    p = request.url.params
    return (request.url.path, p.get("start", ""), p.get("end", ""), p.get("nextToken", ""))


async def test_profile_and_body_measurement(harness: Harness) -> None:
    await harness.app.extractor.fetch_profile(harness.user_id)
    profile = await harness.lines(Resource.PROFILE.value)
    assert profile and profile[0]["user_id"] == harness.user_id
    user = harness.state.users[harness.user_id]
    if user.body is not None:
        body = await harness.lines(Resource.BODY_MEASUREMENT.value)
        assert body == [{**user.body, "user_id": harness.user_id}]
