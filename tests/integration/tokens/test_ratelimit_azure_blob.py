"""BlobLeaseRateLimiter on Azurite: one budget across replicas, 429 pause, header resync."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import SecretStr

from shared.adapters.ratelimit_azure import BlobLeaseRateLimiter
from shared.settings import PlatformSettings
from shared.whoop_ratelimit import RateLimits


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _limiter(azurite: Any, container: str, t: FakeTime) -> BlobLeaseRateLimiter:
    settings = PlatformSettings(blob_connection_string=SecretStr(azurite.connection_string))
    lim = BlobLeaseRateLimiter.from_settings(
        settings, RateLimits(per_minute=3, per_day=5, margin_s=0.5), container=container
    )
    lim._clock = t  # type: ignore[method-assign]
    lim._sleep = t.sleep  # type: ignore[method-assign]
    lim._jitter_s = 0.0
    return lim


async def test_replicas_share_one_budget(azurite: Any) -> None:
    t = FakeTime()
    container = f"rl{uuid.uuid4().hex[:12]}"
    a, b = _limiter(azurite, container, t), _limiter(azurite, container, t)
    try:
        assert [await a.acquire(), await b.acquire(), await a.acquire()] == [0, 0, 0]
        assert 60.4 <= await b.acquire() <= 60.6  # the minute window is shared
        t.now += 61
        assert await a.acquire() == 0
        assert await b._update(b._grant) >= 86_000  # 5/day used up: wait for the day
        await a.observe(429, {"X-RateLimit-Reset": "9"})
        assert a.throttled == 1
    finally:
        await a.close()
        await b.close()


async def test_429_pause_and_remaining_resync(azurite: Any) -> None:
    t = FakeTime()
    container = f"rl{uuid.uuid4().hex[:12]}"
    a, b = _limiter(azurite, container, t), _limiter(azurite, container, t)
    try:
        await a.observe(429, {"X-RateLimit-Reset": "7", "X-RateLimit-Remaining": "0"})
        assert 7.0 <= await b.acquire() <= 7.1
        await b.observe(200, {"X-RateLimit-Limit": "3, 3;window=60", "X-RateLimit-Remaining": "0"})
        t.now += 8
        await a.observe(200, {"X-RateLimit-Limit": "3, 3;window=60", "X-RateLimit-Remaining": "1"})
        assert await a.acquire() == 0
        assert await b.acquire() > 50
    finally:
        await a.close()
        await b.close()
