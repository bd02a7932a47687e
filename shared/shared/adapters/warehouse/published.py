"""Write-audit-publish for DuckDB: readers query a published copy and never wait on writers.

DuckDB lets one process open a file read-write and no other process open it at all meanwhile,
so readers of the warehouse file queue behind every load and dbt build. Writers therefore
keep the warehouse file to themselves, and after an audit (dbt's data tests) passes the
transformer *publishes*: the audited tables are copied into a fresh file beside the last
published one, which then replaces it with an atomic ``rename``. Readers open the published
file read-only for each query: they see the previous version or the new one, never a
half-built table, and never take the writers' lock. A failed audit publishes nothing, so
readers stay on the last good version.

Each publisher replaces only its own tables and carries the rest over from the previous
published file (the scorer publishes ``fact_predictions`` alone, so it can never publish gold
that failed its audit).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from shared.ports.warehouse import BronzeFile, InputLimits, LoadResult, Warehouse

log = logging.getLogger(__name__)

_QUALIFIED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class ReadOnlyWarehouse(PermissionError):
    """A reader was asked to write; only the writers' adapter may."""


def rows_as_dicts(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run ``sql`` on a DuckDB connection; rows as dicts keyed by column name (writers and
    readers answer queries the same way)."""
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    if cur.description is None:
        return []
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def published_path_for(warehouse_file: Path) -> Path:
    """``warehouse.duckdb`` → ``warehouse.published.duckdb`` (the default location)."""
    return warehouse_file.with_name(f"{warehouse_file.stem}.published{warehouse_file.suffix}")


def publish_tables(
    con: duckdb.DuckDBPyConnection, published: Path, tables: Sequence[str]
) -> dict[str, int]:
    """Copy ``tables`` (``schema.table``) from ``con``'s database into ``published``, atomically.

    Runs on the writer's connection, so the caller holds the warehouse lock and the source is
    consistent. The previous published file is copied to a temp file first (readers may keep
    reading the old one), the tables are replaced in the copy, and the copy is renamed over
    the published file. Returns the rows published per table.

    Raises:
        ValueError: a name that is not ``schema.table``.
    """
    for name in tables:
        if not _QUALIFIED.match(name):
            raise ValueError(f"not a schema.table name: {name!r}")
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    if published.exists():
        shutil.copy2(published, tmp)
    rows: dict[str, int] = {}
    con.execute(f"ATTACH '{tmp}' AS wdp_publish")
    try:
        for name in tables:
            schema, table = name.split(".")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS wdp_publish.{schema}")
            con.execute(f"CREATE OR REPLACE TABLE wdp_publish.{name} AS SELECT * FROM {name}")
            count = con.execute(f"SELECT count(*) FROM wdp_publish.{name}").fetchone()
            rows[name] = int(count[0]) if count else 0
        con.execute("CHECKPOINT wdp_publish")
    finally:
        con.execute("DETACH wdp_publish")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, published)
    log.info("published warehouse tables", extra={"tables": len(rows), "path": str(published)})
    return rows


class PublishedDuckDB(Warehouse):
    """The readers' side: read-only, lock-free queries of the published file.

    One read-only connection is kept open and reopened when a publication has replaced the
    file (its inode changes with the atomic rename), so a query pays no file open; each query
    gets its own cursor, so threads can query at once. Before the first publication there is
    nothing to read: queries run against an empty in-memory database (no tables), which the
    dashboard shows as its empty state.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int] | None = None

    def _current(self) -> duckdb.DuckDBPyConnection:
        try:
            st = os.stat(self.path)
            identity: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            identity = None
        with self._lock:
            if self._con is None or identity != self._identity:
                if self._con is not None:
                    self._con.close()
                self._con = (
                    duckdb.connect(str(self.path), read_only=True)
                    if identity is not None
                    else duckdb.connect(":memory:")
                )
                self._con.execute("SET TimeZone = 'UTC'")
                self._con.execute("SET enable_progress_bar = false")
                self._identity = identity
            return self._con

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current published version (no lock: nobody writes it in place)."""
        cursor = self._current().cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the cached connection."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
                self._identity = None

    def ensure_schema(self) -> None:
        """Nothing to create: publishers create the tables."""

    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run a read query against the published version; rows as dicts."""
        with self.connection() as con:
            return rows_as_dicts(con, sql, params)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        """Refused: readers never write.

        Raises:
            ReadOnlyWarehouse: always.
        """
        raise ReadOnlyWarehouse("the published warehouse is read-only; write through a writer")

    def load_bronze(
        self,
        batch_id: str,
        files: Sequence[BronzeFile],
        *,
        limits: InputLimits | None = None,
    ) -> LoadResult:
        """Refused: readers never load.

        Raises:
            ReadOnlyWarehouse: always.
        """
        raise ReadOnlyWarehouse("the published warehouse is read-only; the loader loads bronze")


__all__ = [
    "PublishedDuckDB",
    "ReadOnlyWarehouse",
    "publish_tables",
    "published_path_for",
    "rows_as_dicts",
]
