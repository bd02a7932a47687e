"""The app-wide sliding-window limiter: shared budget, header resync, 429 pause."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shared.whoop_ratelimit import (
    RateLimits,
    SqliteRateLimiter,
    backfill_priority,
    current_priority,
    parse_rate_headers,
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _limiter(path: Path, t: FakeTime, per_minute: int = 5) -> SqliteRateLimiter:
    return SqliteRateLimiter(
        path,
        RateLimits(per_minute=per_minute, per_day=12, margin_s=0.5),
        clock=t.clock,
        sleep=t.sleep,
        jitter_s=0.0,
    )


async def test_two_limiters_share_one_budget(tmp_path: Path) -> None:
    t = FakeTime()
    a, b = _limiter(tmp_path / "rl.db", t), _limiter(tmp_path / "rl.db", t)
    for i in range(5):
        assert await (a if i % 2 else b).acquire() == 0
    waited = await a.acquire()
    assert 60.0 <= waited <= 60.6  # the oldest grant must slide out of the 60.5 s window
    # In any trailing 60.5 s window there are never more than 5 grants.
    assert t.now - 1_000_000.0 >= 60.5


async def test_daily_budget(tmp_path: Path) -> None:
    t = FakeTime()
    lim = _limiter(tmp_path / "rl.db", t, per_minute=100)
    for _ in range(12):
        await lim.acquire()
    assert lim._try_grant() >= 86_000.0  # the 13th request waits for the day window


async def test_429_pauses_everyone_until_reset(tmp_path: Path) -> None:
    t = FakeTime()
    a, b = _limiter(tmp_path / "rl.db", t), _limiter(tmp_path / "rl.db", t)
    await a.observe(429, {"X-RateLimit-Reset": "7", "X-RateLimit-Remaining": "0"})
    assert a.throttled == 1
    assert 7.0 <= await b.acquire() <= 7.1


async def test_remaining_header_resyncs_local_view(tmp_path: Path) -> None:
    t = FakeTime()
    lim = _limiter(tmp_path / "rl.db", t)
    await lim.acquire()
    # WHOOP says only 1 left: someone else used 3 of our 5 → phantom grants.
    await lim.observe(200, {"X-RateLimit-Limit": "5, 5;window=60", "X-RateLimit-Remaining": "1"})
    assert await lim.acquire() == 0
    assert await lim.acquire() > 59


def test_parse_headers() -> None:
    assert parse_rate_headers(
        {
            "X-RateLimit-Limit": "100, 100;window=60, 10000;window=86400",
            "X-RateLimit-Remaining": "98",
            "X-RateLimit-Reset": "3",
        }
    ) == (98, 3.0, 100)
    assert parse_rate_headers({}) == (None, None, None)


async def test_webhooks_go_ahead_of_backfill_in_the_shared_budget(tmp_path: Path) -> None:
    t = FakeTime()
    limits = RateLimits(per_minute=10, per_day=100, margin_s=0.5, backfill_reserve_per_minute=2)
    backfill = SqliteRateLimiter(tmp_path / "rl.db", limits, clock=t.clock, sleep=t.sleep)
    webhooks = SqliteRateLimiter(tmp_path / "rl.db", limits, clock=t.clock, sleep=t.sleep)
    with backfill_priority():
        for _ in range(8):
            assert await backfill.acquire() == 0
        assert backfill._try_grant(current_priority()) > 0  # its share of the minute is used
    # ...but a webhook in another process still gets the reserved grants at once
    assert await webhooks.acquire() == 0 and await webhooks.acquire() == 0
    assert webhooks._try_grant() > 0  # and nobody exceeds the app-wide 10


async def test_a_parked_backfill_does_not_hold_up_a_webhook_in_its_process(
    tmp_path: Path,
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def parked(_: float) -> None:
        entered.set()
        await release.wait()

    now = [1_000_000.0]
    limits = RateLimits(per_minute=10, per_day=100, backfill_reserve_per_minute=2)
    lim = SqliteRateLimiter(tmp_path / "rl.db", limits, clock=lambda: now[0], sleep=parked)

    async def backfill_pages() -> None:
        with backfill_priority():
            for _ in range(9):  # the 9th waits for the minute window to slide
                await lim.acquire()

    task = asyncio.create_task(backfill_pages())
    await asyncio.wait_for(entered.wait(), timeout=10)  # the backfill is parked in acquire
    assert await asyncio.wait_for(lim.acquire(), timeout=10) == 0  # the webhook is not
    now[0] += 61
    release.set()
    await asyncio.wait_for(task, timeout=10)
