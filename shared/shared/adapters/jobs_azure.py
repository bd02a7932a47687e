"""``BlobJobStore``: sync jobs and per-user sync status as JSON blobs (Azure profile).

``jobs/<job_id>.json`` holds one job; ``sync-status/<user_id>.json`` maps resource → last
success. Progress updates from several extractor replicas race, so every write is a
read-modify-write conditioned on the blob's ETag (``If-Match``; ``If-None-Match: *`` to create)
and retried on 412 — optimistic concurrency, no lost increments.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from shared.adapters.blob.service_client import blob_service_client
from shared.errors import TransientError
from shared.jobs import JobRecord, JobStatus, JobStore, ResourceSync, job_from_dict, job_to_dict
from shared.settings import PlatformSettings

DEFAULT_CONTAINER = "wdp-state"
_MAX_TRIES = 20


class JobStoreConflict(TransientError):
    """Too many concurrent writers on one job document; the caller retries later."""


class BlobJobStore(JobStore):
    """Job store on Blob Storage with ETag-conditional writes."""

    def __init__(self, container: ContainerClient, *, service: BlobServiceClient | None = None):
        self._container = container
        self._service = service
        self._ready = False

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, *, container: str = DEFAULT_CONTAINER
    ) -> BlobJobStore:
        """Connection string (Azurite) or account URL + managed identity (Azure)."""
        service = blob_service_client(settings, purpose="job store")
        return cls(service.get_container_client(container), service=service)

    async def _ensure(self) -> None:
        if not self._ready:
            with contextlib.suppress(ResourceExistsError):
                await self._container.create_container()
            self._ready = True

    async def _read(self, name: str) -> tuple[dict[str, Any] | None, str | None]:
        await self._ensure()
        try:
            downloader = await self._container.download_blob(name)
        except ResourceNotFoundError:
            return None, None
        data = json.loads(await downloader.readall())
        return data, downloader.properties.etag

    async def _modify(
        self, name: str, fn: Callable[[dict[str, Any] | None], dict[str, Any] | None]
    ) -> None:
        """Optimistic read-modify-write; ``fn`` returning ``None`` means "leave it"."""
        blob = self._container.get_blob_client(name)
        for attempt in range(_MAX_TRIES):
            current, etag = await self._read(name)
            new = fn(current)
            if new is None:
                return
            body = json.dumps(new).encode()
            try:
                if etag is None:
                    await blob.upload_blob(body, overwrite=False)
                else:
                    await blob.upload_blob(
                        body,
                        overwrite=True,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
                return
            except (ResourceExistsError, ResourceModifiedError):
                await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
            except HttpResponseError as exc:
                if exc.status_code not in (409, 412):
                    raise
                await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise JobStoreConflict(f"gave up updating {name} after {_MAX_TRIES} conflicts")

    async def create(self, job: JobRecord) -> None:
        await self._modify(
            f"jobs/{job.job_id}.json", lambda cur: job_to_dict(job) if cur is None else None
        )

    async def create_exclusive(self, job: JobRecord, *, stale_after: timedelta) -> JobRecord | None:
        """One ``active/<user>.json`` pointer per user, swapped with ETag conditions.

        The pointer names the user's current job; it may be replaced only when that job is
        finished or stale, and the conditional write makes two concurrent requests race for
        it: exactly one wins, the other re-reads and sees the winner's job.
        """
        name = f"active/{job.user_id}.json"
        blob = self._container.get_blob_client(name)
        for attempt in range(_MAX_TRIES):
            pointer, etag = await self._read(name)
            if pointer is not None:
                # The pointer carries the job itself: its winner may not have written the
                # job blob yet, and that in-flight job must block just the same.
                current = await self.get(str(pointer["job_id"]))
                if current is None:
                    current = job_from_dict(pointer["job"])
                if _unfinished(current, stale_after):
                    return current
            body = json.dumps({"job_id": job.job_id, "job": job_to_dict(job)}).encode()
            try:
                if etag is None:
                    await blob.upload_blob(body, overwrite=False)
                else:
                    await blob.upload_blob(
                        body,
                        overwrite=True,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
            except (ResourceExistsError, ResourceModifiedError):
                await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
                continue
            except HttpResponseError as exc:
                if exc.status_code not in (409, 412):
                    raise
                await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
                continue
            await self.create(job)
            return None
        raise JobStoreConflict(f"gave up claiming {name} after {_MAX_TRIES} conflicts")

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
        def apply(cur: dict[str, Any] | None) -> dict[str, Any] | None:
            if cur is None:
                return None
            cur = dict(cur)
            cur["status"] = status or cur["status"]
            cur["pages"] = int(cur.get("pages", 0)) + pages_delta
            cur["records"] = int(cur.get("records", 0)) + records_delta
            if windows_total is not None:
                cur["windows_total"] = windows_total
            if windows_done is not None:
                cur["windows_done"] = windows_done
            if error is not None:
                cur["error"] = error
            cur["updated_at"] = datetime.now(UTC).isoformat()
            return cur

        await self._modify(f"jobs/{job_id}.json", apply)

    async def get(self, job_id: str) -> JobRecord | None:
        data, _ = await self._read(f"jobs/{job_id}.json")
        return None if data is None else job_from_dict(data)

    async def record_sync(
        self, user_id: int, resource: str, *, at: datetime, latest_record_at: datetime | None
    ) -> None:
        def apply(cur: dict[str, Any] | None) -> dict[str, Any]:
            doc = dict(cur or {})
            old = doc.get(resource) or {}
            latest = old.get("latest_record_at")
            if latest_record_at is not None and (
                latest is None or datetime.fromisoformat(latest) < latest_record_at
            ):
                latest = latest_record_at.isoformat()
            doc[resource] = {"last_success_at": at.isoformat(), "latest_record_at": latest}
            return doc

        await self._modify(f"sync-status/{user_id}.json", apply)

    async def sync_status(self, user_id: int) -> list[ResourceSync]:
        data, _ = await self._read(f"sync-status/{user_id}.json")
        out = []
        for resource, row in sorted((data or {}).items()):
            latest = row.get("latest_record_at")
            out.append(
                ResourceSync(
                    user_id,
                    resource,
                    datetime.fromisoformat(row["last_success_at"]),
                    None if latest is None else datetime.fromisoformat(latest),
                )
            )
        return out

    async def delete_user(self, user_id: int) -> int:
        # Jobs are keyed by id, so a purge reads each one (rare, and bounded by one member's
        # history of jobs); the status document is per user.
        await self._ensure()
        deleted = 0
        async for props in self._container.list_blobs(name_starts_with="jobs/"):
            data, _ = await self._read(props.name)
            if data is not None and int(data.get("user_id", -1)) == user_id:
                with contextlib.suppress(ResourceNotFoundError):
                    await self._container.delete_blob(props.name)
                    deleted += 1
        with contextlib.suppress(ResourceNotFoundError):
            await self._container.delete_blob(f"sync-status/{user_id}.json")
        return deleted

    async def close(self) -> None:
        await self._container.close()
        if self._service is not None:
            await self._service.close()


def _unfinished(job: JobRecord, stale_after: timedelta) -> bool:
    return job.status in ("queued", "running") and job.updated_at > (
        datetime.now(UTC) - stale_after
    )
