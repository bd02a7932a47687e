"""Sync job progress and per-resource freshness, written by the extractor, read by the receiver.

``GET /v1/jobs/{id}`` and ``GET /v1/users/{id}/status`` answer from here, so the receiver never
asks the extractor anything (services talk only through the bus and shared state stores).
Locally this is two tables in ``<data_dir>/state.sqlite3``; in Azure the same two shapes are
small JSON blobs updated with ETag-conditional writes (``shared.adapters.jobs_azure``), which
is why the port only needs point reads, point upserts and one per-user document.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from shared.settings import PlatformSettings

JobStatus = Literal["queued", "running", "succeeded", "failed"]


@dataclass(frozen=True)
class JobRecord:
    """One sync/backfill job as the REST API shows it."""

    job_id: str
    user_id: int
    reason: str
    status: JobStatus
    resources: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    created_at: datetime
    updated_at: datetime
    pages: int = 0
    records: int = 0
    windows_total: int = 0
    windows_done: int = 0
    error: str | None = None
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourceSync:
    """Last successful sync of one resource for one user."""

    user_id: int
    resource: str
    last_success_at: datetime
    latest_record_at: datetime | None


class JobStore(abc.ABC):
    """Job rows and per-resource sync status."""

    @abc.abstractmethod
    async def create(self, job: JobRecord) -> None:
        """Insert a job; a second insert of the same id is a no-op (redelivery-safe)."""

    @abc.abstractmethod
    async def create_exclusive(self, job: JobRecord, *, stale_after: timedelta) -> JobRecord | None:
        """Create ``job`` unless its user already has an unfinished one; atomic per user.

        "Unfinished" is ``queued`` or ``running`` and updated within ``stale_after`` (a job
        whose extractor died must not lock its user out forever).

        Returns:
            ``None`` when the job was created, else the user's unfinished job (no write).
        """

    @abc.abstractmethod
    async def update(
        self,
        job_id: str,
        *,
        status: JobStatus | None = None,
        pages_delta: int = 0,
        records_delta: int = 0,
        windows_total: int | None = None,
        windows_done: int | None = None,
        error: str | None = None,
    ) -> None:
        """Advance a job's progress counters and status."""

    @abc.abstractmethod
    async def get(self, job_id: str) -> JobRecord | None:
        """One job, or ``None``."""

    @abc.abstractmethod
    async def record_sync(
        self, user_id: int, resource: str, *, at: datetime, latest_record_at: datetime | None
    ) -> None:
        """Note a successful fetch of ``resource`` (keeps the newest record time seen)."""

    @abc.abstractmethod
    async def sync_status(self, user_id: int) -> list[ResourceSync]:
        """Every resource's last successful sync for a user."""

    @abc.abstractmethod
    async def delete_user(self, user_id: int) -> int:
        """Delete a member's job rows and sync status (purge); returns jobs deleted."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


def _dt(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def job_to_dict(job: JobRecord) -> dict[str, object]:
    """JSON-ready form of a job (document stores)."""
    return {
        "job_id": job.job_id,
        "user_id": job.user_id,
        "reason": job.reason,
        "status": job.status,
        "resources": list(job.resources),
        "start": None if job.start is None else job.start.isoformat(),
        "end": None if job.end is None else job.end.isoformat(),
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "pages": job.pages,
        "records": job.records,
        "windows_total": job.windows_total,
        "windows_done": job.windows_done,
        "error": job.error,
    }


def job_from_dict(data: dict[str, object]) -> JobRecord:
    """Inverse of :func:`job_to_dict`."""
    created, updated = _dt(data["created_at"]), _dt(data["updated_at"])
    assert created is not None and updated is not None
    resources = data["resources"]
    assert isinstance(resources, list)
    return JobRecord(
        job_id=str(data["job_id"]),
        user_id=int(str(data["user_id"])),
        reason=str(data["reason"]),
        status=str(data["status"]),  # type: ignore[arg-type]
        resources=tuple(str(r) for r in resources),
        start=_dt(data.get("start")),
        end=_dt(data.get("end")),
        created_at=created,
        updated_at=updated,
        pages=int(str(data.get("pages", 0))),
        records=int(str(data.get("records", 0))),
        windows_total=int(str(data.get("windows_total", 0))),
        windows_done=int(str(data.get("windows_done", 0))),
        error=None if data.get("error") is None else str(data["error"]),
    )


class SqliteJobStore(JobStore):
    """Local implementation over the shared state database (WAL, cross-process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as conn, conn:
            conn.executescript(
                """
                create table if not exists sync_jobs (
                    job_id text primary key, user_id integer not null, reason text not null,
                    status text not null, resources text not null, start text, "end" text,
                    created_at text not null, updated_at text not null,
                    pages integer not null default 0, records integer not null default 0,
                    windows_total integer not null default 0,
                    windows_done integer not null default 0, error text
                );
                create index if not exists sync_jobs_user on sync_jobs (user_id, status);
                create table if not exists sync_status (
                    user_id integer not null, resource text not null,
                    last_success_at text not null, latest_record_at text,
                    primary key (user_id, resource)
                );
                """
            )

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> SqliteJobStore:
        """``<data_dir>/state.sqlite3``."""
        return cls(settings.state_db_path)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0)
        conn.execute("pragma journal_mode=wal")
        return conn

    def _exec(self, sql: str, params: tuple[object, ...]) -> None:
        with contextlib.closing(self._connect()) as conn, conn:
            conn.execute(sql, params)

    async def create(self, job: JobRecord) -> None:
        await asyncio.to_thread(self._exec, *self._insert_sql(job))

    @staticmethod
    def _insert_sql(job: JobRecord) -> tuple[str, tuple[object, ...]]:
        return (
            'insert into sync_jobs (job_id, user_id, reason, status, resources, start, "end", '
            "created_at, updated_at, windows_total) values (?,?,?,?,?,?,?,?,?,?) "
            "on conflict (job_id) do nothing",
            (
                job.job_id,
                job.user_id,
                job.reason,
                job.status,
                json.dumps(list(job.resources)),
                None if job.start is None else job.start.isoformat(),
                None if job.end is None else job.end.isoformat(),
                job.created_at.isoformat(),
                job.updated_at.isoformat(),
                job.windows_total,
            ),
        )

    async def create_exclusive(self, job: JobRecord, *, stale_after: timedelta) -> JobRecord | None:
        def _claim() -> str | None:
            with contextlib.closing(self._connect()) as conn:
                conn.isolation_level = None
                conn.execute("begin immediate")  # check and insert under one write lock
                try:
                    row = conn.execute(
                        "select job_id from sync_jobs where user_id = ? and status in "
                        "('queued', 'running') and updated_at > ? order by created_at limit 1",
                        (job.user_id, (datetime.now(UTC) - stale_after).isoformat()),
                    ).fetchone()
                    if row is not None:
                        return str(row[0])
                    conn.execute(*self._insert_sql(job))
                    return None
                finally:
                    conn.execute("commit")

        busy = await asyncio.to_thread(_claim)
        return None if busy is None else await self.get(busy)

    async def update(
        self,
        job_id: str,
        *,
        status: JobStatus | None = None,
        pages_delta: int = 0,
        records_delta: int = 0,
        windows_total: int | None = None,
        windows_done: int | None = None,
        error: str | None = None,
    ) -> None:
        await asyncio.to_thread(
            self._exec,
            "update sync_jobs set status = coalesce(?, status), pages = pages + ?, "
            "records = records + ?, windows_total = coalesce(?, windows_total), "
            "windows_done = coalesce(?, windows_done), error = coalesce(?, error), "
            "updated_at = ? where job_id = ?",
            (
                status,
                pages_delta,
                records_delta,
                windows_total,
                windows_done,
                error,
                datetime.now(UTC).isoformat(),
                job_id,
            ),
        )

    async def get(self, job_id: str) -> JobRecord | None:
        def _get() -> tuple[object, ...] | None:
            with contextlib.closing(self._connect()) as conn:
                row: tuple[object, ...] | None = conn.execute(
                    'select job_id, user_id, reason, status, resources, start, "end", '
                    "created_at, updated_at, pages, records, windows_total, windows_done, error "
                    "from sync_jobs where job_id = ?",
                    (job_id,),
                ).fetchone()
            return row

        row = await asyncio.to_thread(_get)
        if row is None:
            return None
        created = _dt(row[7])
        updated = _dt(row[8])
        assert created is not None and updated is not None
        return JobRecord(
            job_id=str(row[0]),
            user_id=int(str(row[1])),
            reason=str(row[2]),
            status=str(row[3]),  # type: ignore[arg-type]
            resources=tuple(json.loads(str(row[4]))),
            start=_dt(row[5]),
            end=_dt(row[6]),
            created_at=created,
            updated_at=updated,
            pages=int(str(row[9])),
            records=int(str(row[10])),
            windows_total=int(str(row[11])),
            windows_done=int(str(row[12])),
            error=None if row[13] is None else str(row[13]),
        )

    async def record_sync(
        self, user_id: int, resource: str, *, at: datetime, latest_record_at: datetime | None
    ) -> None:
        await asyncio.to_thread(
            self._exec,
            "insert into sync_status (user_id, resource, last_success_at, latest_record_at) "
            "values (?,?,?,?) on conflict (user_id, resource) do update set "
            "last_success_at = excluded.last_success_at, latest_record_at = case "
            "when sync_status.latest_record_at is null then excluded.latest_record_at "
            "when excluded.latest_record_at is null then sync_status.latest_record_at "
            "else max(sync_status.latest_record_at, excluded.latest_record_at) end",
            (
                user_id,
                resource,
                at.isoformat(),
                None if latest_record_at is None else latest_record_at.isoformat(),
            ),
        )

    async def sync_status(self, user_id: int) -> list[ResourceSync]:
        def _rows() -> list[tuple[object, ...]]:
            with contextlib.closing(self._connect()) as conn:
                return conn.execute(
                    "select user_id, resource, last_success_at, latest_record_at "
                    "from sync_status where user_id = ? order by resource",
                    (user_id,),
                ).fetchall()

        out = []
        for row in await asyncio.to_thread(_rows):
            last = _dt(row[2])
            assert last is not None
            out.append(ResourceSync(int(str(row[0])), str(row[1]), last, _dt(row[3])))
        return out

    async def delete_user(self, user_id: int) -> int:
        def _delete() -> int:
            with contextlib.closing(self._connect()) as conn, conn:
                n = conn.execute("delete from sync_jobs where user_id = ?", (user_id,)).rowcount
                conn.execute("delete from sync_status where user_id = ?", (user_id,))
                return int(n)

        return await asyncio.to_thread(_delete)


__all__ = [
    "JobRecord",
    "JobStatus",
    "JobStore",
    "ResourceSync",
    "SqliteJobStore",
    "job_from_dict",
    "job_to_dict",
]
