"""The extractor's own state: watermarks, the seen-record index and backfill checkpoints.

Local profile: tables prefixed ``ex_`` in ``<data_dir>/state.sqlite3`` (WAL; several extractor
processes may share it). The seen-record index (key, tombstone key, record time, updated_at)
is what lets reconciliation notice records that vanished at WHOOP without a webhook; the
window checkpoints (page cursor + pages done) are what makes a killed backfill resume without
refetching finished pages.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from shared.settings import PlatformSettings

T = TypeVar("T")

_SCHEMA = """
create table if not exists ex_watermarks (
    user_id integer not null, resource text not null, watermark text not null,
    primary key (user_id, resource)
);
create table if not exists ex_seen (
    user_id integer not null, resource text not null, key text not null,
    tomb_key text not null, record_time text, updated_at text, indexed_at real not null,
    primary key (user_id, resource, key)
);
create index if not exists ex_seen_time on ex_seen (user_id, resource, record_time);
create table if not exists ex_windows (
    job_id text not null, resource text not null, window_start text not null,
    window_end text not null, cursor text, pages_done integer not null default 0,
    done integer not null default 0,
    primary key (job_id, resource, window_start)
);
create table if not exists ex_profile (user_id integer primary key, fetched_at text not null);
create table if not exists ex_sleep_cycle (
    user_id integer not null, sleep_id text not null, cycle_id text not null,
    start text, "end" text,
    primary key (user_id, sleep_id)
);
create table if not exists ex_served (
    user_id integer not null, kind text not null, record_id text not null,
    fetch_started text not null,
    primary key (user_id, kind, record_id)
);
create table if not exists ex_parked (
    user_id integer not null, topic text not null, message_id text not null,
    body blob not null, properties text not null, subject text, parked_at text not null,
    primary key (user_id, topic, message_id)
);
"""


@dataclass(frozen=True)
class SeenRecord:
    """One record the extractor has written to bronze."""

    key: str
    tomb_key: str
    record_time: datetime | None
    updated_at: str | None


@dataclass(frozen=True)
class ParkedMessage:
    """A message that waits for its user to re-authorise (body and properties as received)."""

    user_id: int
    topic: str
    message_id: str
    body: bytes
    properties: dict[str, Any]
    subject: str | None
    parked_at: datetime


@dataclass(frozen=True)
class WindowCheckpoint:
    """Progress of one backfill window of one resource."""

    resource: str
    window_start: datetime
    window_end: datetime
    cursor: str | None
    pages_done: int
    done: bool


def _dt(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


class ExtractorState:
    """Small synchronous SQLite calls, run in a worker thread to keep the loop free."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._call(lambda conn: conn.executescript(_SCHEMA))

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> ExtractorState:
        """The shared local state database."""
        return cls(settings.state_db_path)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = sqlite3.connect(self.path, timeout=30.0)
        try:
            conn.execute("pragma journal_mode=wal")
            with conn:
                return fn(conn)
        finally:
            conn.close()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._call, fn)

    # --- watermarks -----------------------------------------------------------------
    async def watermark(self, user_id: int, resource: str) -> datetime | None:
        """Newest window end fully fetched for a user's resource."""
        row = await self._run(
            lambda c: c.execute(
                "select watermark from ex_watermarks where user_id = ? and resource = ?",
                (user_id, resource),
            ).fetchone()
        )
        return None if row is None else _dt(row[0])

    async def advance_watermark(self, user_id: int, resource: str, to: datetime) -> None:
        """Move the watermark forward only (an old backfill never moves it back)."""
        await self._run(
            lambda c: c.execute(
                "insert into ex_watermarks (user_id, resource, watermark) values (?, ?, ?) "
                "on conflict (user_id, resource) do update set watermark = "
                "max(ex_watermarks.watermark, excluded.watermark)",
                (user_id, resource, to.isoformat()),
            )
        )

    # --- seen-record index ----------------------------------------------------------
    async def seen_updates(self, user_id: int, resource: str, keys: list[str]) -> dict[str, str]:
        """``key → updated_at`` for the given keys already indexed."""
        if not keys:
            return {}

        def work(c: sqlite3.Connection) -> dict[str, str]:
            marks = ",".join("?" * len(keys))
            rows = c.execute(
                f"select key, updated_at from ex_seen where user_id = ? and resource = ? "
                f"and key in ({marks})",
                (user_id, resource, *keys),
            ).fetchall()
            return {str(k): str(u) for k, u in rows}

        return await self._run(work)

    async def remember(self, user_id: int, resource: str, records: Iterable[SeenRecord]) -> None:
        """Upsert records into the index after their bronze blob was written."""
        now = time.time()
        rows = [
            (
                user_id,
                resource,
                r.key,
                r.tomb_key,
                None if r.record_time is None else r.record_time.astimezone(UTC).isoformat(),
                r.updated_at,
                now,
            )
            for r in records
        ]
        await self._run(
            lambda c: c.executemany(
                "insert into ex_seen (user_id, resource, key, tomb_key, record_time, updated_at, "
                "indexed_at) values (?,?,?,?,?,?,?) on conflict (user_id, resource, key) do "
                "update set tomb_key = excluded.tomb_key, record_time = excluded.record_time, "
                "updated_at = excluded.updated_at, indexed_at = excluded.indexed_at",
                rows,
            )
        )

    async def seen_between(
        self,
        user_id: int,
        resource: str,
        start: datetime,
        end: datetime,
        *,
        indexed_before: datetime | None = None,
    ) -> list[SeenRecord]:
        """Indexed records whose time lies in ``[start, end)`` (indexed before a moment)."""
        before = float("inf") if indexed_before is None else indexed_before.timestamp()
        rows = await self._run(
            lambda c: c.execute(
                "select key, tomb_key, record_time, updated_at from ex_seen where user_id = ? "
                "and resource = ? and record_time >= ? and record_time < ? and indexed_at < ?",
                (
                    user_id,
                    resource,
                    start.astimezone(UTC).isoformat(),
                    end.astimezone(UTC).isoformat(),
                    before,
                ),
            ).fetchall()
        )
        return [SeenRecord(str(k), str(t), _dt(rt), u) for k, t, rt, u in rows]

    async def forget(
        self, user_id: int, resource: str, *, key: str | None = None, tomb_key: str | None = None
    ) -> None:
        """Drop a deleted record from the index (by key or by tombstone key)."""
        column, value = ("key", key) if key is not None else ("tomb_key", tomb_key)
        await self._run(
            lambda c: c.execute(
                f"delete from ex_seen where user_id = ? and resource = ? and {column} = ?",
                (user_id, resource, value),
            )
        )

    # --- backfill checkpoints -------------------------------------------------------
    async def ensure_windows(
        self, job_id: str, windows: list[tuple[str, datetime, datetime]]
    ) -> list[WindowCheckpoint]:
        """Plan a job's windows on its first run and return them (resume-safe)."""

        def work(c: sqlite3.Connection) -> list[WindowCheckpoint]:
            # A job's windows are fixed at its first run: a rerun with another window size
            # must resume the recorded plan, not add overlapping windows.
            planned = c.execute("select 1 from ex_windows where job_id = ? limit 1", (job_id,))
            if planned.fetchone() is None:
                c.executemany(
                    "insert into ex_windows (job_id, resource, window_start, window_end) "
                    "values (?,?,?,?) on conflict do nothing",
                    [(job_id, r, s.isoformat(), e.isoformat()) for r, s, e in windows],
                )
            rows = c.execute(
                "select resource, window_start, window_end, cursor, pages_done, done "
                "from ex_windows where job_id = ? order by window_start desc, resource",
                (job_id,),
            ).fetchall()
            out = []
            for res, ws, we, cur, pages, done in rows:
                start, end = _dt(ws), _dt(we)
                assert start is not None and end is not None
                out.append(WindowCheckpoint(str(res), start, end, cur, int(pages), bool(done)))
            return out

        return await self._run(work)

    async def checkpoint(
        self,
        job_id: str,
        resource: str,
        window_start: datetime,
        *,
        cursor: str | None,
        done: bool,
    ) -> None:
        """Record one finished page: the next cursor, or that the window is complete."""
        await self._run(
            lambda c: c.execute(
                "update ex_windows set cursor = ?, pages_done = pages_done + 1, done = ? "
                "where job_id = ? and resource = ? and window_start = ?",
                (cursor, int(done), job_id, resource, window_start.isoformat()),
            )
        )

    # --- profile schedule -----------------------------------------------------------
    async def profile_fetched_at(self, user_id: int) -> datetime | None:
        """When profile and body measurement were last fetched."""
        row = await self._run(
            lambda c: c.execute(
                "select fetched_at from ex_profile where user_id = ?", (user_id,)
            ).fetchone()
        )
        return None if row is None else _dt(row[0])

    async def mark_profile_fetched(self, user_id: int, at: datetime) -> None:
        """Note a profile fetch."""
        await self._run(
            lambda c: c.execute(
                "insert into ex_profile (user_id, fetched_at) values (?, ?) on conflict "
                "(user_id) do update set fetched_at = excluded.fetched_at",
                (user_id, at.isoformat()),
            )
        )

    # --- sleep → cycle, so recovery.updated needs no sleep fetch --------------------------
    async def remember_sleeps(
        self, user_id: int, rows: Iterable[tuple[str, str, str, str]]
    ) -> None:
        """``(sleep_id, cycle_id, start, end)`` of sleeps written to bronze."""
        data = [(user_id, *r) for r in rows]
        await self._run(
            lambda c: c.executemany(
                'insert into ex_sleep_cycle (user_id, sleep_id, cycle_id, start, "end") '
                "values (?,?,?,?,?) on conflict (user_id, sleep_id) do update set "
                'cycle_id = excluded.cycle_id, start = excluded.start, "end" = excluded."end"',
                data,
            )
        )

    async def sleep_cycle(self, user_id: int, sleep_id: str) -> tuple[str, str, str] | None:
        """``(cycle_id, start, end)`` of a sleep written before, if any."""
        row = await self._run(
            lambda c: c.execute(
                'select cycle_id, start, "end" from ex_sleep_cycle where user_id = ? '
                "and sleep_id = ?",
                (user_id, sleep_id),
            ).fetchone()
        )
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]))

    # --- webhook coalescing ------------------------------------------------------------
    async def served_since(self, user_id: int, kind: str, record_id: str) -> datetime | None:
        """When the newest successful fetch for this webhook target *started*."""
        row = await self._run(
            lambda c: c.execute(
                "select fetch_started from ex_served where user_id = ? and kind = ? "
                "and record_id = ?",
                (user_id, kind, record_id),
            ).fetchone()
        )
        return None if row is None else _dt(row[0])

    async def mark_served(
        self, user_id: int, kind: str, record_id: str, fetch_started: datetime
    ) -> None:
        """Remember a finished fetch (keeps the latest start when fetches overlap)."""
        await self._run(
            lambda c: c.execute(
                "insert into ex_served (user_id, kind, record_id, fetch_started) "
                "values (?,?,?,?) on conflict (user_id, kind, record_id) do update set "
                "fetch_started = max(ex_served.fetch_started, excluded.fetch_started)",
                (user_id, kind, record_id, fetch_started.astimezone(UTC).isoformat()),
            )
        )

    # --- messages parked while a user needs re-authorisation --------------------------
    async def park(self, message: ParkedMessage) -> None:
        """Keep a message until the user reconnects (a redelivered one is stored once)."""
        await self._run(
            lambda c: c.execute(
                "insert into ex_parked (user_id, topic, message_id, body, properties, subject, "
                "parked_at) values (?,?,?,?,?,?,?) on conflict do nothing",
                (
                    message.user_id,
                    message.topic,
                    message.message_id,
                    message.body,
                    json.dumps(message.properties, default=str),
                    message.subject,
                    message.parked_at.isoformat(),
                ),
            )
        )

    async def parked(self, user_id: int) -> list[ParkedMessage]:
        """A user's parked messages, oldest first (replay keeps their order)."""
        rows = await self._run(
            lambda c: c.execute(
                "select topic, message_id, body, properties, subject, parked_at from ex_parked "
                "where user_id = ? order by parked_at, rowid",
                (user_id,),
            ).fetchall()
        )
        out = []
        for topic, message_id, body, props, subject, parked_at in rows:
            at = _dt(parked_at)
            assert at is not None
            out.append(
                ParkedMessage(
                    user_id,
                    str(topic),
                    str(message_id),
                    bytes(body),
                    json.loads(props),
                    subject,
                    at,
                )
            )
        return out

    async def unpark(self, user_id: int, topic: str, message_id: str) -> None:
        """Drop a parked message once it has been republished."""
        await self._run(
            lambda c: c.execute(
                "delete from ex_parked where user_id = ? and topic = ? and message_id = ?",
                (user_id, topic, message_id),
            )
        )

    async def count_parked(self) -> dict[int, int]:
        """Parked messages per user (status, metrics)."""
        rows = await self._run(
            lambda c: c.execute(
                "select user_id, count(*) from ex_parked group by user_id"
            ).fetchall()
        )
        return {int(u): int(n) for u, n in rows}

    async def purge_user(self, user_id: int) -> None:
        """Forget everything about a user (disconnect with purge)."""

        def work(c: sqlite3.Connection) -> None:
            for table in (
                "ex_watermarks",
                "ex_seen",
                "ex_profile",
                "ex_parked",
                "ex_served",
                "ex_sleep_cycle",
            ):
                c.execute(f"delete from {table} where user_id = ?", (user_id,))  # noqa: S608

        await self._run(work)


__all__ = ["ExtractorState", "ParkedMessage", "SeenRecord", "WindowCheckpoint"]
