"""What every warehouse adapter agrees on about bronze: resources, keys, statuses, file checks.

docs/data-model.md is the contract; this module is its executable form, shared by the DuckDB
and Snowflake adapters so the two cannot drift (the contract suite in
``tests/integration/warehouse`` loads the same files into both and compares the rows).
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.contracts import Resource
from shared.errors import TransientError
from shared.ports.warehouse import BronzeFile, InputLimits, LoadResult

log = logging.getLogger(__name__)

RESOURCES: tuple[str, ...] = tuple(r.value for r in Resource)

#: JSON field that is a record's key, per resource (tombstones use their own ``key``).
KEY_FIELD: dict[str, str] = {
    "cycle": "id",
    "sleep": "id",
    "workout": "id",
    "recovery": "cycle_id",
    "profile": "user_id",
    "body_measurement": "user_id",
}

#: Resources whose records carry no ``updated_at``: the fetch time stands in.
FETCH_TIME_RESOURCES: frozenset[str] = frozenset({"profile", "body_measurement"})

STATUS_LOADED = "loaded"
STATUS_QUARANTINED = "quarantined"
STATUS_MISSING = "missing"

REASON_INVALID_JSON = "invalid_json"
REASON_MISSING_KEYS = "missing_key_fields"
REASON_BAD_USER_ID = "bad_user_id"
REASON_BAD_TIMESTAMP = "bad_timestamp"

REASON_MISSING_BLOB = "missing: blob was deleted before it could be loaded"
#: Prefix of the file-level reason for a file over :class:`~shared.ports.warehouse.InputLimits`.
REASON_TOO_LARGE = "too_large"

GZIP_MAGIC = b"\x1f\x8b"


class WarehouseLockTimeout(TransientError):
    """Another process held the warehouse lock too long; retry the batch later."""

    def __init__(self, lock_path: Path, timeout_s: float) -> None:
        self.lock_path = lock_path
        self.timeout_s = timeout_s
        super().__init__(f"warehouse lock {str(lock_path)!r} not acquired within {timeout_s}s")


class WarehouseUnavailable(TransientError):
    """The warehouse could not be reached or refused the statement for a transient reason."""


class InputTooLarge(ValueError):
    """A bronze file exceeds an :class:`~shared.ports.warehouse.InputLimits` bound.

    Raised while streaming, as soon as the bound is crossed, so the work done on a
    decompression bomb is bounded by the limit rather than by the bomb. ``reason`` is what
    the quarantine and the load history record.
    """

    def __init__(self, detail: str) -> None:
        self.reason = f"{REASON_TOO_LARGE}: {detail}"
        super().__init__(self.reason)


class InputMeter:
    """Counts one file's inflated bytes, line lengths and lines against the limits.

    Fed the inflated stream chunk by chunk; each check is O(1) per chunk in Python (the
    newline searches run in C), and the longest-line scan of a chunk's interior only runs
    when the chunk is longer than the line limit, so the 1 MiB chunks of ordinary pages
    pay nothing for it.
    """

    def __init__(self, limits: InputLimits) -> None:
        self.limits = limits
        self.inflated = 0
        self.line_len = 0  # bytes of the current, unfinished line

    def feed(self, chunk: bytes) -> None:
        """Account one inflated chunk.

        Raises:
            InputTooLarge: the file's inflated size or a line's length crossed its limit.
        """
        lim = self.limits
        self.inflated += len(chunk)
        if self.inflated > lim.max_inflated_bytes:
            raise InputTooLarge(
                f"inflates to more than {lim.max_inflated_bytes} bytes (max_inflated_bytes)"
            )
        first = chunk.find(b"\n")
        if first < 0:
            self.line_len += len(chunk)
            longest = self.line_len
        else:
            longest = self.line_len + first
            last = chunk.rfind(b"\n")
            if last - first - 1 > lim.max_line_bytes:  # an interior line could be too long
                longest = max(longest, *map(len, chunk[first + 1 : last].split(b"\n")))
            self.line_len = len(chunk) - last - 1
            longest = max(longest, self.line_len)
        if longest > lim.max_line_bytes:
            raise InputTooLarge(
                f"a line is longer than {lim.max_line_bytes} bytes (max_line_bytes)"
            )

    def check_lines(self, lines: int) -> None:
        """Raises InputTooLarge when ``lines`` non-blank lines exceed ``max_lines``."""
        if lines > self.limits.max_lines:
            raise InputTooLarge(f"more than {self.limits.max_lines} non-blank lines (max_lines)")


def table_name(resource: str) -> str:
    """``raw_<resource>``; refuses unknown resources so no caller can inject a table name."""
    if resource not in KEY_FIELD:
        raise ValueError(f"unknown bronze resource {resource!r}")
    return f"raw_{resource}"


def is_gzip(path: Path) -> bool:
    """Sniff the gzip magic bytes: the loader's temp files need not keep a ``.gz`` suffix."""
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


@dataclass(frozen=True)
class LoadKey:
    """Identity of one file version in the load history."""

    blob_path: str
    etag: str
    content_sha256: str | None


def already_loaded(file: BronzeFile, history: Sequence[LoadKey]) -> bool:
    """True when the history holds this blob path with the same etag or the same content hash.

    Either match suffices: an etag changes on every overwrite even with identical bytes (the
    hash catches that), and a copy in another store has another etag but the same hash.
    """
    for row in history:
        if row.blob_path != file.blob_path:
            continue
        if row.etag == file.etag:
            return True
        if file.content_sha256 and row.content_sha256 == file.content_sha256:
            return True
    return False


def dedupe_batch(files: Sequence[BronzeFile]) -> tuple[list[BronzeFile], list[BronzeFile]]:
    """Split a batch into first occurrences and repeats of the same (path, etag).

    Event Grid delivers at least once, so one micro-batch can hold the same event twice.
    """
    seen: set[tuple[str, str]] = set()
    unique: list[BronzeFile] = []
    repeats: list[BronzeFile] = []
    for f in files:
        key = (f.blob_path, f.etag)
        if key in seen:
            repeats.append(f)
        else:
            seen.add(key)
            unique.append(f)
    return unique, repeats


def iter_lines(
    path: Path, chunk_size: int = 1 << 20, limits: InputLimits | None = None
) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)`` of the non-blank lines of a plain or gzip NDJSON file.

    Memory is bounded by ``chunk_size`` plus ``limits.max_line_bytes`` whatever the file
    holds: ``gzip`` reads at most ``chunk_size`` inflated bytes at a time and the meter stops
    an over-long line before it accumulates. Empty lines are skipped but still numbered.

    Raises:
        OSError, EOFError, zlib.error: the gzip stream is corrupt or truncated.
        UnicodeDecodeError: the bytes are not UTF-8.
        InputTooLarge: the file crosses one of ``limits``.
    """
    meter = InputMeter(limits or InputLimits())
    opener = gzip.open if is_gzip(path) else open
    number = 0
    kept = 0
    with opener(path, "rb") as raw:  # type: ignore[operator]
        pending = b""
        while True:
            chunk = raw.read(chunk_size)
            if not chunk:
                break
            meter.feed(chunk)
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                number += 1
                if line:
                    kept += 1
                    meter.check_lines(kept)
                    yield number, line.rstrip(b"\r").decode("utf-8")
        if pending:
            meter.check_lines(kept + 1)
            yield number + 1, pending.rstrip(b"\r").decode("utf-8")


UNREADABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    UnicodeDecodeError,
)


def failure_rows(
    batch_id: str,
    now: datetime,
    pending: Iterable[BronzeFile],
    unreadable: Mapping[str, str],
    missing: Sequence[BronzeFile],
    result: LoadResult,
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Rows recording a batch's unreadable and vanished files, identical for every warehouse.

    Unreadable files go to the quarantine table and the load history; deleted ones only to
    the history (there is nothing left to inspect). Both reasons are also put in
    ``result.quarantined`` so the loader can report them.

    Args:
        pending: the batch's files not yet loaded; only those named in ``unreadable`` count.
        unreadable: blob path → why the file could not be read.
        missing: files deleted before the load read them.

    Returns:
        ``(quarantine_rows, history_rows)`` in the column order of ``quarantine_files``
        (path, etag, reason, time) and ``load_history`` (path, etag, sha256, batch, rows,
        status, reason, time).
    """
    history_rows: list[list[Any]] = []
    quarantine_rows: list[list[Any]] = []
    for f in pending:
        reason = unreadable.get(f.blob_path)
        if reason is None:
            continue
        result.quarantined[f.blob_path] = reason
        quarantine_rows.append([f.blob_path, f.etag, reason, now])
        history_rows.append(
            [f.blob_path, f.etag, f.content_sha256, batch_id, 0, STATUS_QUARANTINED, reason, now]
        )
        log.warning(
            "quarantined unreadable file",
            extra={"blob_path": f.blob_path, "reason": reason, "batch_id": batch_id},
        )
    for f in missing:
        result.quarantined[f.blob_path] = REASON_MISSING_BLOB
        history_rows.append(
            [
                f.blob_path,
                f.etag,
                f.content_sha256,
                batch_id,
                0,
                STATUS_MISSING,
                REASON_MISSING_BLOB,
                now,
            ]
        )
    return quarantine_rows, history_rows
