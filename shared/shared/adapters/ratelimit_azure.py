"""``BlobLeaseRateLimiter``: the app-wide WHOOP budget shared by replicas on different hosts.

The SQLite limiter serialises check-and-record with ``BEGIN IMMEDIATE``; across Container Apps
replicas the same critical section is a **blob lease** on one small JSON blob:

``{"recent": [grant epoch seconds within the minute window], "days": {"<minute>": count},
"pause_until": epoch}``

``recent`` is exact for the 60 s window; the day window is kept as per-minute counts (at most
1,440 entries), which is exact enough for a 10,000/day budget and keeps the blob tiny. A lease
held by a crashed replica expires on its own after 15 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from shared.adapters.blob.service_client import blob_service_client
from shared.errors import TransientError
from shared.settings import PlatformSettings
from shared.whoop_ratelimit import (
    Priority,
    RateLimiter,
    RateLimits,
    current_priority,
    parse_rate_headers,
)

BLOB_NAME = "ratelimit/whoop.json"
DEFAULT_CONTAINER = "wdp-state"


class RateLimitStateBusy(TransientError):
    """Could not lease the shared rate-limit blob in time."""


class BlobLeaseRateLimiter(RateLimiter):
    """Sliding minute window + per-minute day buckets in one leased blob."""

    def __init__(
        self,
        container: ContainerClient,
        limits: RateLimits | None = None,
        *,
        service: BlobServiceClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter_s: float = 0.25,
        lease_wait_s: float = 30.0,
    ) -> None:
        self._sleep = sleep
        self._container = container
        self._service = service
        self.limits = limits or RateLimits()
        self._clock = clock
        self._jitter_s = jitter_s
        self._lease_wait_s = lease_wait_s
        self._lock = asyncio.Lock()
        self._ready = False
        self.throttled = 0

    @classmethod
    def from_settings(
        cls,
        settings: PlatformSettings,
        limits: RateLimits | None = None,
        *,
        container: str = DEFAULT_CONTAINER,
    ) -> BlobLeaseRateLimiter:
        """Connection string (Azurite) or account URL + managed identity (Azure)."""
        service = blob_service_client(settings, purpose="rate limiter")
        return cls(service.get_container_client(container), limits, service=service)

    async def _ensure(self) -> None:
        if self._ready:
            return
        with contextlib.suppress(ResourceExistsError):
            await self._container.create_container()
        blob = self._container.get_blob_client(BLOB_NAME)
        with contextlib.suppress(ResourceExistsError):
            await blob.upload_blob(b"{}", overwrite=False)
        self._ready = True

    async def _update(self, fn: Callable[[dict[str, Any], float], float]) -> float:
        """Lease, read, apply ``fn`` (mutates state, returns a wait), write, release."""
        await self._ensure()
        blob = self._container.get_blob_client(BLOB_NAME)
        deadline = time.monotonic() + self._lease_wait_s
        while True:
            try:
                lease = await blob.acquire_lease(lease_duration=15)
                break
            except (HttpResponseError, ResourceNotFoundError) as exc:
                if getattr(exc, "status_code", None) != 409:
                    raise
                if time.monotonic() > deadline:
                    raise RateLimitStateBusy("rate-limit blob lease busy") from exc
                await asyncio.sleep(random.uniform(0.01, 0.05))
        try:
            raw = await (await blob.download_blob(lease=lease)).readall()
            state: dict[str, Any] = json.loads(raw or b"{}")
            wait = fn(state, self._clock())
            await blob.upload_blob(json.dumps(state).encode(), overwrite=True, lease=lease)
            return wait
        finally:
            with contextlib.suppress(HttpResponseError):
                await lease.release()

    def _grant(
        self, state: dict[str, Any], now: float, priority: Priority = Priority.INTERACTIVE
    ) -> float:
        lim = self.limits
        per_minute, per_day = lim.caps(priority)
        if float(state.get("pause_until", 0)) > now:
            return float(state["pause_until"]) - now
        recent = [float(t) for t in state.get("recent", []) if t > now - lim.minute_window_s]
        day_start = now - lim.day_window_s
        days = {
            str(k): int(v) for k, v in state.get("days", {}).items() if int(k) * 60 + 60 > day_start
        }
        state["recent"], state["days"] = recent, days
        if len(recent) >= per_minute:
            oldest = sorted(recent)[len(recent) - per_minute]
            return max(0.01, oldest + lim.minute_window_s - now)
        if sum(days.values()) >= per_day:
            first = min(int(k) for k in days)
            return max(0.01, (first + 1) * 60 + lim.day_window_s - now)
        recent.append(now)
        minute = str(math.floor(now / 60))
        days[minute] = days.get(minute, 0) + 1
        return 0.0

    async def acquire(self) -> float:
        waited = 0.0
        priority = current_priority()

        def grant(state: dict[str, Any], now: float) -> float:
            return self._grant(state, now, priority)

        while True:
            async with self._lock:  # released while sleeping, so webhooks are not stuck behind
                wait = await self._update(grant)
            if wait <= 0:
                return waited
            wait = min(wait, 60.0)
            waited += wait
            await self._sleep(wait)

    async def observe(self, status_code: int, headers: Mapping[str, str]) -> None:
        remaining, reset, limit = parse_rate_headers(headers)
        if status_code != 429 and remaining != 0:
            if remaining is None or limit != self.limits.per_minute:
                return

        def apply(state: dict[str, Any], now: float) -> float:
            if status_code == 429 or remaining == 0:
                self.throttled += status_code == 429
                pause = now + (reset if reset is not None else 1.0)
                pause += random.uniform(0, self._jitter_s)
                state["pause_until"] = max(float(state.get("pause_until", 0)), pause)
                return 0.0
            assert remaining is not None and limit is not None
            recent = [t for t in state.get("recent", []) if t > now - self.limits.minute_window_s]
            missing = (limit - remaining) - len(recent)
            state["recent"] = recent + [now] * max(0, missing)
            return 0.0

        await self._update(apply)

    async def close(self) -> None:
        await self._container.close()
        if self._service is not None:
            await self._service.close()
