"""An app-wide WHOOP rate limiter shared by every process (receiver, extractor replicas, CLI).

WHOOP's limits (100 requests / 60 s and 10,000 / 86,400 s by default) are **per app**, not per
user or per process, so the budget must be shared. The local profile keeps a sliding-window log
of request times in one SQLite file; ``BEGIN IMMEDIATE`` serialises the check-and-record across
processes. A sliding log is stricter than a token bucket: a request is granted only when fewer
than ``limit`` requests were granted in the trailing window, which is exactly what a
sliding-window *or* fixed-window server accepts, so a compliant client never sees a 429.

In Azure the same log lives behind the same port: a blob holding the recent grant times, updated
under a 15 s blob lease (the lease is the cross-replica mutex that ``BEGIN IMMEDIATE`` is here).

The server's ``X-RateLimit-*`` headers resync the local view: when WHOOP reports fewer
remaining requests than we believe (another client of the same app, a restart), we add phantom
grants; a 429 or ``Remaining: 0`` pauses everyone until ``X-RateLimit-Reset`` (+ jitter).

Priority: webhooks (and every interactive call) go ahead of backfill pages. Backfill work runs
inside :func:`backfill_priority` and may only take a grant while the trailing windows hold
fewer than ``per_minute - backfill_reserve_per_minute`` and ``per_day -
backfill_reserve_per_day`` grants, so that headroom is always there for a webhook, in every
process, even while a 10-year backfill saturates its share. Waiting callers do not hold the
in-process lock while they sleep, so a webhook never queues behind a parked backfill.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from shared.settings import PlatformSettings

MINUTE_S = 60.0
DAY_S = 86_400.0


class Priority(IntEnum):
    """Who is asking for a grant: interactive work (webhooks, OAuth, profile) or backfill."""

    INTERACTIVE = 0
    BACKFILL = 1


_PRIORITY: ContextVar[Priority] = ContextVar("wdp_whoop_priority", default=Priority.INTERACTIVE)


@contextlib.contextmanager
def backfill_priority() -> Iterator[None]:
    """Run the block's WHOOP requests at backfill priority (this task and its children)."""
    token = _PRIORITY.set(Priority.BACKFILL)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def at_backfill_priority(
    fn: Callable[_P, Awaitable[_R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Decorate an async function so every WHOOP request it makes is backfill priority."""

    @functools.wraps(fn)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with backfill_priority():
            return await fn(*args, **kwargs)

    return wrapper


def current_priority() -> Priority:
    """The priority the limiter applies to a request made here."""
    return _PRIORITY.get()


@dataclass(frozen=True)
class RateLimits:
    """The limits to stay under; ``margin_s`` widens the windows against clock/latency skew.

    ``backfill_reserve_*`` grants of each window are kept for interactive requests: backfill
    stops short of them. A reserve is capped at a fifth of its window's limit, so backfill
    keeps at least 80 % of the budget (and small test limits still progress).
    """

    per_minute: int = 100
    per_day: int = 10_000
    margin_s: float = 0.5
    backfill_reserve_per_minute: int = 20
    backfill_reserve_per_day: int = 1_000

    def caps(self, priority: Priority) -> tuple[int, int]:
        """``(minute cap, day cap)`` of grants a request of ``priority`` may find taken."""
        if priority is Priority.BACKFILL:
            return (
                self.per_minute - min(self.backfill_reserve_per_minute, self.per_minute // 5),
                self.per_day - min(self.backfill_reserve_per_day, self.per_day // 5),
            )
        return self.per_minute, self.per_day

    @property
    def minute_window_s(self) -> float:
        """Effective short window (60 s plus the safety margin)."""
        return MINUTE_S + self.margin_s

    @property
    def day_window_s(self) -> float:
        """Effective long window (one day plus the safety margin)."""
        return DAY_S + self.margin_s


class RateLimiter(abc.ABC):
    """Grants permission for one WHOOP request at a time, app-wide."""

    @abc.abstractmethod
    async def acquire(self) -> float:
        """Wait until a request may be sent and record it; returns seconds waited."""

    @abc.abstractmethod
    async def observe(self, status_code: int, headers: Mapping[str, str]) -> None:
        """Resync from a response's ``X-RateLimit-*`` headers (and pause on 429)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


def parse_rate_headers(headers: Mapping[str, str]) -> tuple[int | None, float | None, int | None]:
    """``(remaining, reset_s, limit_of_that_window)`` from WHOOP's draft-polli headers.

    ``X-RateLimit-Limit: 100, 100;window=60, 10000;window=86400`` → the first number is the limit
    of the window closest to exhaustion, which ``Remaining`` and ``Reset`` describe.
    """

    def _num(name: str) -> float | None:
        raw = headers.get(name) or headers.get(name.lower())
        if raw is None:
            return None
        first = raw.split(",")[0].split(";")[0].strip()
        try:
            return float(first)
        except ValueError:
            return None

    remaining = _num("X-RateLimit-Remaining")
    reset = _num("X-RateLimit-Reset")
    limit = _num("X-RateLimit-Limit")
    return (
        None if remaining is None else int(remaining),
        reset,
        None if limit is None else int(limit),
    )


class SqliteRateLimiter(RateLimiter):
    """Sliding-window log in SQLite (WAL), safe across processes on one machine.

    Args:
        path: the SQLite file every process of the app shares.
        limits: the per-minute and per-day budgets.
        clock: wall clock (``time.time``); shared across processes, so not monotonic.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        path: Path,
        limits: RateLimits | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] = asyncio.sleep,
        jitter_s: float = 0.25,
    ) -> None:
        self.path = path
        self.limits = limits or RateLimits()
        self._clock = clock
        self._sleep = sleep
        self._jitter_s = jitter_s
        self._lock = asyncio.Lock()
        self.waited_s = 0.0
        self.throttled = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as conn:
            conn.executescript(
                """
                create table if not exists grants (ts real not null);
                create index if not exists grants_ts on grants (ts);
                create table if not exists pause (id integer primary key check (id = 1),
                                                  until real not null);
                """
            )

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, limits: RateLimits | None = None
    ) -> SqliteRateLimiter:
        """The one file every WHOOP caller of this app shares: ``<data_dir>/whoop_ratelimit``."""
        return cls(settings.data_dir / "whoop_ratelimit.sqlite3", limits)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.execute("pragma journal_mode=wal")
        conn.execute("pragma synchronous=normal")
        return conn

    def _try_grant(self, priority: Priority = Priority.INTERACTIVE) -> float:
        """One check-and-record transaction; returns 0 when granted, else seconds to wait."""
        lim = self.limits
        per_minute, per_day = lim.caps(priority)
        with contextlib.closing(self._connect()) as conn:
            conn.execute("begin immediate")
            try:
                now = self._clock()
                conn.execute("delete from grants where ts < ?", (now - lim.day_window_s,))
                row = conn.execute("select until from pause where id = 1").fetchone()
                if row is not None and row[0] > now:
                    return float(row[0] - now)
                minute = conn.execute(
                    "select count(*), min(ts) from grants where ts > ?",
                    (now - lim.minute_window_s,),
                ).fetchone()
                if minute[0] >= per_minute:
                    # Wait until the oldest grant of the full window slides out.
                    oldest = conn.execute(
                        "select ts from grants where ts > ? order by ts limit 1 offset ?",
                        (now - lim.minute_window_s, minute[0] - per_minute),
                    ).fetchone()
                    return max(0.01, float(oldest[0]) + lim.minute_window_s - now)
                day = conn.execute("select count(*), min(ts) from grants").fetchone()
                if day[0] >= per_day:
                    return max(0.01, float(day[1]) + lim.day_window_s - now)
                conn.execute("insert into grants (ts) values (?)", (now,))
                return 0.0
            finally:
                conn.execute("commit")

    async def acquire(self) -> float:
        waited = 0.0
        priority = current_priority()
        while True:
            async with self._lock:  # not held while sleeping: see the module docstring
                wait = await asyncio.to_thread(self._try_grant, priority)
            if wait <= 0:
                self.waited_s += waited
                return waited
            wait = min(wait, 60.0)
            waited += wait
            await self._sleep(wait)  # type: ignore[misc]

    def _apply(self, status_code: int, headers: Mapping[str, str]) -> None:
        remaining, reset, limit = parse_rate_headers(headers)
        now = self._clock()
        with contextlib.closing(self._connect()) as conn:
            conn.execute("begin immediate")
            try:
                if status_code == 429 or remaining == 0:
                    self.throttled += status_code == 429
                    pause_s = (reset if reset is not None else 1.0) + random.uniform(
                        0, self._jitter_s
                    )
                    conn.execute(
                        "insert into pause (id, until) values (1, ?) on conflict (id) do update "
                        "set until = max(until, excluded.until)",
                        (now + pause_s,),
                    )
                    return
                if remaining is None or limit != self.limits.per_minute:
                    return
                used = conn.execute(
                    "select count(*) from grants where ts > ?",
                    (now - self.limits.minute_window_s,),
                ).fetchone()[0]
                missing = (limit - remaining) - used
                if missing > 0:
                    conn.executemany("insert into grants (ts) values (?)", [(now,)] * missing)
            finally:
                conn.execute("commit")

    async def observe(self, status_code: int, headers: Mapping[str, str]) -> None:
        await asyncio.to_thread(self._apply, status_code, headers)


def build_rate_limiter(settings: PlatformSettings, limits: RateLimits | None = None) -> RateLimiter:
    """The app-wide limiter for the profile: SQLite file locally, a leased blob in Azure."""
    if settings.profile == "azure" or settings.blob_connection_string is not None:
        from shared.adapters.ratelimit_azure import BlobLeaseRateLimiter

        return BlobLeaseRateLimiter.from_settings(settings, limits)
    return SqliteRateLimiter.from_settings(settings, limits)


__all__ = [
    "Priority",
    "RateLimiter",
    "RateLimits",
    "SqliteRateLimiter",
    "at_backfill_priority",
    "backfill_priority",
    "build_rate_limiter",
    "current_priority",
    "parse_rate_headers",
]
