"""The ``Warehouse`` port: bronze raw tables, load history, quarantine, queries.

Adapters: ``DuckDBWarehouse`` (embedded default) and ``SnowflakeWarehouse``
(snowflake-connector-python). Loads are exactly-once in effect: a load history keyed by
blob path + etag/content hash makes a redelivered event or a rerun load zero rows.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BronzeFile:
    """One bronze NDJSON(.gz) file, already on local disk, ready to load."""

    blob_path: str
    local_path: Path
    resource: str
    etag: str
    content_sha256: str | None = None
    trace_id: str | None = None
    #: blob metadata ``fetched_at``: the ``updated_at`` of profile/body lines (they have none).
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class InputLimits:
    """Bounds on what one bronze file may cost to read, whatever its bytes say.

    A gzip member of 200 KB can inflate to 200 MiB of newlines; without bounds the loader
    inflated and parsed it line by line (9 GB RSS, never finished, and redelivery repeated
    it). Every adapter enforces these while streaming and quarantines the file with a
    ``too_large`` reason as soon as one is exceeded, so work is bounded by the limits, not
    by the input. Blank lines are skipped without costing a line.

    Attributes:
        max_inflated_bytes: decompressed bytes per file (blank lines included: inflating
            them is the work being bounded).
        max_line_bytes: bytes in any one line (without its newline).
        max_lines: non-blank lines per file (each becomes a row to classify, whatever
            its length).
    """

    max_inflated_bytes: int = 128 << 20
    max_line_bytes: int = 1 << 20
    max_lines: int = 1_000_000


@dataclass
class LoadResult:
    """What one micro-batch did."""

    batch_id: str
    loaded_files: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)
    rows_by_resource: dict[str, int] = field(default_factory=dict)
    user_ids: set[int] = field(default_factory=set)


class Warehouse(abc.ABC):
    """Loads bronze files and answers queries."""

    #: whether :meth:`publish` exists (write-audit-publish); fakes and readers say no
    publishes: bool = False

    @abc.abstractmethod
    def ensure_schema(self) -> None:
        """Create raw tables, load history and quarantine tables if absent (idempotent)."""

    @abc.abstractmethod
    def load_bronze(
        self,
        batch_id: str,
        files: Sequence[BronzeFile],
        *,
        limits: InputLimits | None = None,
    ) -> LoadResult:
        """Load a micro-batch of files in one transaction; skip already-loaded ones.

        ``limits`` (default :class:`InputLimits`) bound each file; a file over them is
        quarantined with the reason and loads no rows.
        """

    @abc.abstractmethod
    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        """Run a write statement in its own transaction."""

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the warehouse's cross-process write lock while another writer (dbt) runs.

        DuckDB allows one writing process per file, so every local writer (loader, dbt in the
        transformer, scorer) takes this lock around a short-lived connection. Snowflake needs
        no such lock, so the default is a no-op.
        """
        yield

    def publish(self, tables: Sequence[str]) -> dict[str, int]:
        """Make audited ``tables`` (``schema.table``) visible to readers, atomically.

        Write-audit-publish: writers build and test in the warehouse; only a version whose
        audit passed is published, and readers (dashboard, BI, ``wdp warehouse query``) see
        the published version only. Returns rows published per table.

        Raises:
            NotImplementedError: the adapter has no separate published version.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot publish")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
