"""Bronze layout, exactly as ``docs/data-model.md`` defines it.

``bronze/whoop/<resource>/user_id=<id>/dt=<YYYY-MM-DD>/<fetched_at>_<job>_<page>.ndjson.gz``,
one gzip NDJSON file per fetched page, each line one record exactly as WHOOP returned it
(re-serialised compactly, all fields and values untouched), plus our own tombstone lines.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.contracts import Resource


def iso_ms(ts: datetime) -> str:
    """UTC with milliseconds and ``Z`` (the platform's and WHOOP's timestamp format)."""
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def blob_path(
    resource: Resource, user_id: int, fetched_at: datetime, job_id: str, page: int
) -> str:
    """The bronze blob path for one page (``dt`` = UTC date of the fetch)."""
    ts = fetched_at.astimezone(UTC)
    stamp = ts.strftime("%Y%m%dT%H%M%S") + f"{ts.microsecond // 1000:03d}Z"
    safe_job = re.sub(r"[^A-Za-z0-9.-]", "-", job_id)  # ids from webhooks are not trusted
    return (
        f"bronze/whoop/{resource.value}/user_id={user_id}/dt={ts.date().isoformat()}/"
        f"{stamp}_{safe_job}_{page:05d}.ndjson.gz"
    )


def user_prefix(resource: Resource, user_id: int) -> str:
    """Every bronze blob of one user and resource (purge on disconnect)."""
    return f"bronze/whoop/{resource.value}/user_id={user_id}/"


def ndjson_gz(lines: Iterable[Mapping[str, Any]]) -> bytes:
    """Compact JSON per line, non-ASCII kept, gzip with mtime 0 (same input → same bytes)."""
    text = "".join(
        json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n" for line in lines
    )
    return gzip.compress(text.encode("utf-8"), mtime=0)


def tombstone(
    resource: Resource,
    *,
    key_field: str,
    key: str,
    user_id: int,
    deleted_at: datetime,
    source: str,
) -> dict[str, Any]:
    """A delete marker line (webhook ``*.deleted`` or reconciliation)."""
    return {
        "wdp_tombstone": True,
        "resource": resource.value,
        "key_field": key_field,
        "key": key,
        "user_id": user_id,
        "deleted_at": iso_ms(deleted_at),
        "source": source,
    }


def metadata(
    *,
    user_id: int,
    resource: Resource,
    window_start: datetime | None,
    window_end: datetime | None,
    fetched_at: datetime,
    trace_id: str | None,
    job_id: str,
) -> dict[str, str]:
    """Blob metadata (all strings): an unbounded start is the epoch, an open end the fetch time."""
    return {
        "user_id": str(user_id),
        "resource": resource.value,
        "window_start": iso_ms(window_start or datetime(1970, 1, 1, tzinfo=UTC)),
        "window_end": iso_ms(window_end) if window_end else iso_ms(fetched_at),
        "fetched_at": iso_ms(fetched_at),
        "trace_id": trace_id or "",
        "job_id": job_id,
    }
