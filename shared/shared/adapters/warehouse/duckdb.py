"""``DuckDBWarehouse``: the embedded warehouse, one DuckDB file shared by four processes.

Locking: DuckDB admits one read-write process per file, and the loader, dbt (transformer),
scorer and dashboard all use it. Every operation therefore opens a SHORT-LIVED connection while
holding a cross-process ``flock`` on ``<file>.lock`` (:mod:`.filelock`) and closes it before
releasing; ``exclusive()`` hands that lock to dbt for a whole build. See docs/warehouse.md.

Loading: DuckDB's own vectorised CSV reader does the parsing, never a per-row Python loop.
It runs in two phases. Without the lock, the micro-batch's files are inflated into one
combined NDJSON file whose lines carry their file index (:mod:`.coalesce`: one DuckDB scan per
batch instead of one per 25-record page) and a private in-memory DuckDB classifies every line
into an Arrow table; under the lock, only the history check, the inserts from that table and
the commit run, so a second batch can prepare while one commits. ``read_csv`` reads the
combined file as two columns (file index, line) with no quoting and a delimiter valid JSON
cannot contain, which keeps every line's exact text and exact 1-based line number, including
lines that are not JSON; one ``json_extract_string`` call per line pulls the key fields;
``payload`` is the line cast to JSON, byte for byte as received. ``read_json`` was measured
too: it drops blank lines (line numbers drift) and turns a malformed line into NULL without
its text, which the quarantine needs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from shared.adapters.warehouse.bronze import (
    FETCH_TIME_RESOURCES,
    KEY_FIELD,
    REASON_BAD_TIMESTAMP,
    REASON_BAD_USER_ID,
    REASON_INVALID_JSON,
    REASON_MISSING_KEYS,
    RESOURCES,
    STATUS_LOADED,
    LoadKey,
    already_loaded,
    dedupe_batch,
    failure_rows,
    is_gzip,
    table_name,
)
from shared.adapters.warehouse.coalesce import CoalescedFile, Segment, coalesce
from shared.adapters.warehouse.filelock import InterProcessLock, lock_for
from shared.adapters.warehouse.published import (
    publish_tables,
    published_path_for,
    rows_as_dicts,
)
from shared.ports.warehouse import BronzeFile, InputLimits, LoadResult, Warehouse
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

SCHEMA = "bronze"

# json_extract_string(line, [...]) parses a line once and returns these paths in this order.
_PATHS = (
    "$.id",
    "$.cycle_id",
    "$.user_id",
    "$.updated_at",
    "$.wdp_tombstone",
    "$.key_field",
    "$.key",
    "$.deleted_at",
)
_E = {p.removeprefix("$."): i + 1 for i, p in enumerate(_PATHS)}  # 1-based list indices
REASON_BLANK = "blank"  # a blank line is not a record: counted, neither loaded nor quarantined

#: Settings of a ``load_bronze`` session, each measured on the loader benchmark
#: (docs/warehouse.md; 200k and 1M records on 2 shared cores). They change how a batch is
#: written, never what is written, and are RESET before the connection is released:
#:
#: * ``threads = 1``: the scan is serial anyway (``row_number() OVER ()`` numbers lines in
#:   file order, which a single thread guarantees); a second thread only contended with the
#:   other processes on the box (-8 % wall time).
#: * ``checkpoint_threshold = '1MB'``: a batch larger than this checkpoints AT COMMIT and skips
#:   the WAL (``auto_checkpoint_skip_wal_threshold``) instead of writing every row to the WAL
#:   at commit and again to the file at the checkpoint on close (-6 %). Durable at commit.
#: * ``force_compression = 'zstd'``: DuckDB's default for the long ``payload`` strings is
#:   DICT_FSST, whose analysis and compression were the largest single cost of the checkpoint;
#:   ZSTD compresses them faster AND smaller (checkpoint -30 %, file -40 %). Only the row
#:   groups this session writes are affected; readers decompress either format.
LOAD_SETTINGS: dict[str, str] = {
    "threads": "1",
    "checkpoint_threshold": "'1MB'",
    "force_compression": "'zstd'",
}

#: Settings of the private in-memory DuckDB that classifies a batch outside the lock
#: (``_prepare``): one thread, because the scan must stay in file order for ``row_number()``
#: and the other core is busy committing the previous batch. (UTC is SET after connecting,
#: like every connection: the TimeZone setting needs ICU, which loads only then.)
PREPARE_SETTINGS: dict[str, str] = {"threads": "1"}

#: DuckDB ``memory_limit`` of each of a load's two DuckDB instances (the private one that
#: classifies, the warehouse connection that inserts). A prepared batch is held as Arrow
#: OUTSIDE these limits (~1.25x its uncompressed size: 330 MB for the benchmark's 500k-line
#: batch), so the limits are set low enough for two concurrent loads to stay under 1 GiB:
#: measured peak RSS 780 MiB at 256 MB vs 973 MiB at 512 MB, same speed (4.47 vs 4.48 s).
LOAD_MEMORY_LIMIT = "256MB"

#: A batch whose every touched raw table gains at least this many rows (one DuckDB vector)
#: commits with ``max_vacuum_tasks = 0``. The checkpoint's vacuum otherwise merges adjacent
#: under-filled row groups, re-compressing earlier batches' rows again and again (1, 2, 4, 8
#: ... batches' worth: 63 % of the 1M benchmark's commit time). Row groups this size are
#: worth keeping as they are (+20 % file size); smaller batches (webhook trickle) keep the
#: merge so tables never fragment into tiny row groups.
NO_VACUUM_MIN_ROWS = 2048

RAW_COLUMNS_DDL = """
    record_id VARCHAR NOT NULL,
    user_id BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    is_tombstone BOOLEAN NOT NULL,
    tombstone_key_field VARCHAR,
    payload JSON NOT NULL,
    source_file VARCHAR NOT NULL,
    line_number INTEGER NOT NULL,
    load_timestamp TIMESTAMP NOT NULL,
    batch_id VARCHAR NOT NULL,
    trace_id VARCHAR
"""


def schema_ddl() -> list[str]:
    """Every CREATE statement ``ensure_schema`` runs (also listed in docs/warehouse.md)."""
    stmts = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"]
    stmts += [
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table_name(r)} ({RAW_COLUMNS_DDL})"
        for r in RESOURCES
    ]
    stmts += [
        f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.load_history (
            blob_path VARCHAR NOT NULL,
            etag VARCHAR,
            content_sha256 VARCHAR,
            batch_id VARCHAR NOT NULL,
            rows BIGINT NOT NULL,
            status VARCHAR NOT NULL,
            reason VARCHAR,
            loaded_at TIMESTAMP NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.quarantine_files (
            blob_path VARCHAR NOT NULL,
            etag VARCHAR,
            reason VARCHAR NOT NULL,
            quarantined_at TIMESTAMP NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.quarantine_records (
            blob_path VARCHAR NOT NULL,
            resource VARCHAR NOT NULL,
            line_number INTEGER NOT NULL,
            reason VARCHAR NOT NULL,
            raw_line VARCHAR,
            batch_id VARCHAR NOT NULL,
            quarantined_at TIMESTAMP NOT NULL
        )""",
    ]
    return stmts


#: The batch's readable files, built by :func:`_insert_files` in the warehouse connection
#: (per-file counts and history rows).
_FILES_DDL = (
    "CREATE OR REPLACE TEMP TABLE wdp_files (file_idx INTEGER, blob_path VARCHAR, "
    "resource VARCHAR, trace_id VARCHAR, fetched_at TIMESTAMP, etag VARCHAR, "
    "content_sha256 VARCHAR, first_rn BIGINT, lines BIGINT)"
)


#: The segments of the combined file (:class:`~.coalesce.Segment`) with their file's
#: columns, built in the private DuckDB: the classify scan joins each line to its segment.
_SEGMENTS_DDL = (
    "CREATE OR REPLACE TEMP TABLE wdp_segments (seg INTEGER, file_idx INTEGER, "
    "blob_path VARCHAR, resource VARCHAR, trace_id VARCHAR, fetched_at TIMESTAMP, "
    "first_rn BIGINT, first_line BIGINT)"
)

#: DuckDB's own line-length ceiling when the configured ``max_line_bytes`` is below it (the
#: coalescer has already refused longer lines; this is DuckDB's default).
_DUCKDB_MAX_LINE = 4 << 20


def _read_csv_sql(path: Path, columns: str, compression: str, max_line: int = 0) -> str:
    """``read_csv`` as a line reader: exact text, no quoting, no sniffing.

    ``\\x01`` cannot appear unescaped in valid JSON, so it is a safe delimiter; a malformed
    line that contains one is cut there (it is quarantined either way). ``max_line`` raises
    DuckDB's line-size ceiling to the configured line limit (plus the segment prefix).
    """
    max_line_size = max(_DUCKDB_MAX_LINE, max_line + 32)
    return (
        f"read_csv({_sql_str(str(path))}, columns = {columns}, header = false, "
        "delim = chr(1), quote = '', escape = '', new_line = '\\n', auto_detect = false, "
        f"strict_mode = false, null_padding = true, max_line_size = {max_line_size}, "
        f"compression = '{compression}')"
    )


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _classify_sql(combined: Path, max_line: int) -> str:
    """Read one combined file; one row per line with its typed key columns and its problem.

    ``row_number() OVER ()`` is a streaming window over an order-preserving single-file,
    single-thread scan, so ``rn`` is the line's position in the combined file and
    ``rn - first_rn + first_line`` its line number in its own file (empty lines were not
    written; each run of them starts a new segment). The join to ``wdp_segments`` comes
    before the JSON parse so the parsed list is not copied through it, and the list itself
    is not kept. Blank lines get problem ``blank`` (counted, never loaded). ``$now`` is the
    load time, the ``updated_at`` of a fetch-time resource line without blob metadata.
    """
    e = _E
    columns = "{'seg': 'INTEGER', 'line': 'VARCHAR'}"
    json_paths = "[" + ", ".join(_sql_str(p) for p in _PATHS) + "]"
    key_by_resource = " ".join(f"WHEN '{r}' THEN e[{e[KEY_FIELD[r]]}]" for r in RESOURCES)
    fetch_time = ", ".join(f"'{r}'" for r in sorted(FETCH_TIME_RESOURCES))
    return f"""
    WITH scanned AS (
        SELECT seg,
               CASE WHEN suffix(line, chr(13)) THEN rtrim(line, chr(13)) ELSE line END AS line,
               row_number() OVER () AS rn
        FROM {_read_csv_sql(combined, columns, "none", max_line)}
    ), joined AS (
        SELECT
            f.file_idx, f.blob_path, f.resource, f.trace_id, f.fetched_at,
            CAST(l.rn - f.first_rn + f.first_line AS INTEGER) AS line_number,
            l.line
        FROM scanned AS l
        JOIN wdp_segments AS f USING (seg)
    ), parsed AS (
        SELECT *, TRY(json_extract_string(line, {json_paths})) AS e FROM joined
    ), base AS (
        SELECT *, coalesce(e[{e["wdp_tombstone"]}] = 'true', false) AS is_tombstone
        FROM parsed
    ), derived AS (
        SELECT
            *,
            CASE WHEN is_tombstone THEN e[{e["key"]}]
                 ELSE CASE resource {key_by_resource} END END AS record_id,
            e[{e["user_id"]}] AS user_id_text,
            CASE WHEN is_tombstone THEN e[{e["deleted_at"]}]
                 WHEN resource IN ({fetch_time}) THEN NULL
                 ELSE e[{e["updated_at"]}] END AS updated_at_text,
            CASE WHEN is_tombstone THEN e[{e["key_field"]}] END AS tombstone_key_field
        FROM base
    ), typed AS (
        SELECT
            *,
            TRY_CAST(user_id_text AS BIGINT) AS user_id,
            CAST(TRY_CAST(updated_at_text AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)
                AS updated_at_parsed
        FROM derived
    )
    SELECT
        file_idx, blob_path, resource, trace_id, line_number, line, record_id, user_id,
        coalesce(updated_at_parsed, fetched_at, CAST($now AS TIMESTAMP)) AS updated_at,
        is_tombstone, tombstone_key_field,
        CASE
            WHEN line IS NULL THEN '{REASON_BLANK}'
            WHEN e IS NULL THEN
                CASE WHEN trim(line) = '' THEN '{REASON_BLANK}' ELSE '{REASON_INVALID_JSON}' END
            WHEN record_id IS NULL OR user_id_text IS NULL
                 OR (updated_at_text IS NULL
                     AND (is_tombstone OR resource NOT IN ({fetch_time})))
                THEN '{REASON_MISSING_KEYS}'
            WHEN user_id IS NULL THEN '{REASON_BAD_USER_ID}'
            WHEN updated_at_text IS NOT NULL AND updated_at_parsed IS NULL
                THEN '{REASON_BAD_TIMESTAMP}'
        END AS problem
    FROM typed
    """


# What a broken file raises (bad gzip, invalid UTF-8, over-long line). Anything else (out of
# memory, I/O on our own database) is not the file's fault and propagates as a failure.
_FILE_ERRORS: tuple[type[duckdb.Error], ...] = (
    duckdb.IOException,
    duckdb.InvalidInputException,
    duckdb.ConversionException,
)


@contextmanager
def _load_session(con: duckdb.DuckDBPyConnection, memory_limit: str | None) -> Iterator[None]:
    """Apply :data:`LOAD_SETTINGS` for one load; reset them (and the vacuum switch) after.

    The settings are global to the DuckDB instance, which another connection of this process
    could share, so they must not outlive the load; ``memory_limit`` goes back to the
    connection's own limit.
    """
    for name, value in LOAD_SETTINGS.items():
        con.execute(f"SET {name} = {value}")
    con.execute(f"SET memory_limit = {_sql_str(LOAD_MEMORY_LIMIT)}")
    try:
        yield
    finally:
        for name in (*LOAD_SETTINGS, "max_vacuum_tasks"):
            con.execute(f"RESET {name}")
        if memory_limit:
            con.execute(f"SET memory_limit = {_sql_str(memory_limit)}")
        else:
            con.execute("RESET memory_limit")


@dataclass
class _Pending:
    idx: int
    file: BronzeFile


@dataclass
class _Prepared:
    """A micro-batch read and classified OUTSIDE the warehouse lock (see ``_prepare``).

    ``table`` holds one row per line of every readable file (the columns of
    :func:`_classify_sql`), ``placed`` where each file's lines are, ``unreadable`` why the
    others could not be read (by blob path).
    """

    table: pa.Table | None
    placed: dict[int, CoalescedFile] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)


class DuckDBWarehouse(Warehouse):
    """One DuckDB file; every operation is a short connection under the cross-process lock.

    Args:
        path: the DuckDB database file.
        lock_timeout_s: how long to wait for the lock before raising WarehouseLockTimeout.
        memory_limit: DuckDB ``memory_limit`` for our connections (bounds the loader's RSS;
            DuckDB spills to ``<file>.tmp`` beyond it).
    """

    publishes = True

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout_s: float = 120.0,
        memory_limit: str | None = "512MB",
        published_path: Path | None = None,
    ) -> None:
        self.path = path
        self.published_path = published_path or published_path_for(path)
        self.lock_timeout_s = lock_timeout_s
        self.memory_limit = memory_limit
        self._lock: InterProcessLock = lock_for(path.with_name(path.name + ".lock"))
        self._schema_ready = False

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> DuckDBWarehouse:
        """The warehouse file under the data dir (``WDP_DUCKDB_PATH`` overrides it)."""
        return cls(settings.duckdb_file, published_path=settings.duckdb_published_file)

    # --- connections and locking ---------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the cross-process lock (dbt runs inside it); reentrant within this process."""
        with self._lock.hold(self.lock_timeout_s):
            yield

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived read-write connection, opened and closed under the lock."""
        with self._lock.hold(self.lock_timeout_s):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.path))
            try:
                con.execute("SET TimeZone = 'UTC'")
                con.execute("SET enable_progress_bar = false")
                if self.memory_limit:
                    con.execute(f"SET memory_limit = {_sql_str(self.memory_limit)}")
                yield con
            finally:
                con.close()

    def publish(self, tables: Sequence[str]) -> dict[str, int]:
        """Copy audited tables into the published file readers query (see ``published``)."""
        with self.connection() as con:
            return publish_tables(con, self.published_path, tables)

    def clone_to(self, target: Path) -> Path:
        """Copy the database file for dev/CI (DuckDB's stand-in for a zero-copy clone).

        Taken under the cross-process lock, when no process has the file open, so the copy is
        a consistent snapshot; a leftover WAL (after a crash) is copied with it. The copy is
        written beside the target and renamed, so a reader never sees half a file.

        Raises:
            ValueError: the target is the warehouse file itself.
        """
        if target.resolve() == self.path.resolve():
            raise ValueError("clone target is the warehouse file itself")
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.exclusive():
            if not self.path.exists():
                self.ensure_schema()
            for suffix in ("", ".wal"):
                src = self.path.with_name(self.path.name + suffix)
                dst = target.with_name(target.name + suffix)
                if not src.exists():
                    dst.unlink(missing_ok=True)
                    continue
                tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
                shutil.copy2(src, tmp)
                os.replace(tmp, dst)
        log.info("cloned DuckDB warehouse", extra={"source": str(self.path), "target": str(target)})
        return target

    # --- port ----------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create schema ``bronze`` and its tables if absent (idempotent)."""
        with self.connection() as con:
            self._ensure_schema(con)

    def _ensure_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        for stmt in schema_ddl():
            con.execute(stmt)
        self._schema_ready = True

    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run a read query; rows come back as dicts keyed by column name."""
        with self.connection() as con:
            return rows_as_dicts(con, sql, params)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        """Run one write statement in its own transaction."""
        with self.connection() as con:
            if params is not None:
                con.execute(sql, params)
            else:
                con.execute(sql)

    def load_bronze(
        self,
        batch_id: str,
        files: Sequence[BronzeFile],
        *,
        limits: InputLimits | None = None,
    ) -> LoadResult:
        """Load a micro-batch in one transaction; already-loaded files load zero rows.

        Unreadable files (bad gzip, not UTF-8, missing) and files over ``limits`` (reason
        ``too_large: ...``) are recorded and skipped while the rest of the batch loads; bad
        lines go to ``quarantine_records`` with the reason.

        Two phases: ``_prepare`` decompresses, parses and classifies every line in a private
        in-memory DuckDB WITHOUT the warehouse lock; only the history check, the inserts and
        the commit hold it. Concurrent calls (the loader runs ``WDP_LOADER_CONCURRENCY``
        batches at once) therefore prepare one batch while another commits, which keeps both
        cores busy: the commit's compression is single-threaded inside DuckDB.
        """
        result = LoadResult(batch_id=batch_id)
        unique, repeats = dedupe_batch(files)
        result.skipped_files.extend(f.blob_path for f in repeats)
        now = datetime.now(UTC).replace(tzinfo=None)
        candidates = [_Pending(i, f) for i, f in enumerate(unique) if f.local_path.exists()]
        prepared = self._prepare(candidates, now, limits or InputLimits())
        present = {p.file.blob_path for p in candidates}
        with self.connection() as con, _load_session(con, self.memory_limit):
            if not self._schema_ready:
                self._ensure_schema(con)
            history = self._history(con, [f.blob_path for f in unique])
            skipped: set[str] = set()
            missing: list[BronzeFile] = []
            for f in unique:
                if already_loaded(f, history):
                    result.skipped_files.append(f.blob_path)
                    skipped.add(f.blob_path)
                elif f.blob_path not in present:
                    missing.append(f)
            pending = [p for p in candidates if p.file.blob_path not in skipped]
            unreadable = {
                path: why for path, why in prepared.unreadable.items() if path not in skipped
            }
            readable = [p for p in pending if p.file.blob_path not in unreadable]
            con.execute("BEGIN TRANSACTION")
            try:
                self._insert_batch(con, batch_id, now, prepared, readable, result)
                self._record_failures(con, batch_id, now, unreadable, missing, pending, result)
                if min(result.rows_by_resource.values(), default=0) >= NO_VACUUM_MIN_ROWS:
                    con.execute("SET max_vacuum_tasks = 0")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        log.info(
            "bronze batch loaded",
            extra={
                "batch_id": batch_id,
                "files": len(result.loaded_files),
                "skipped": len(result.skipped_files),
                "quarantined": len(result.quarantined),
                "rows": sum(result.rows_by_resource.values()),
            },
        )
        return result

    # --- load steps ----------------------------------------------------------------------

    def _history(self, con: duckdb.DuckDBPyConnection, paths: Sequence[str]) -> list[LoadKey]:
        if not paths:
            return []
        rows = con.execute(
            f"SELECT blob_path, etag, content_sha256 FROM {SCHEMA}.load_history "
            "WHERE blob_path IN (SELECT unnest(CAST(? AS VARCHAR[])))",
            [sorted(set(paths))],
        ).fetchall()
        return [LoadKey(r[0], r[1], r[2]) for r in rows]

    def _prepare(
        self, pending: Sequence[_Pending], now: datetime, limits: InputLimits
    ) -> _Prepared:
        """Coalesce the batch and classify every line in a private in-memory DuckDB.

        Needs no warehouse lock: it reads only the bronze files and writes only a temp dir
        next to the database (the combined file is the uncompressed batch; DuckDB spills
        there too). The result is an Arrow table the locked phase scans without copying.
        Corrupt gzip is found while coalescing. Invalid UTF-8 only shows when DuckDB reads
        the combined file; then each file is probed alone, the culprits are set aside and
        the rest is coalesced again, so one bad file never blocks its batch.
        """
        prepared = _Prepared(table=None)
        if not pending:
            return prepared
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".wdp-load-", dir=self.path.parent) as tmp:
            config: dict[str, str | bool | int | float | list[str]] = {
                **PREPARE_SETTINGS,
                "temp_directory": tmp,
                "memory_limit": LOAD_MEMORY_LIMIT,
            }
            mem = duckdb.connect(":memory:", config=config)
            try:
                mem.execute("SET TimeZone = 'UTC'")
                prepared = self._classify(mem, pending, now, Path(tmp) / "batch.ndjson", limits)
            finally:
                mem.close()
        return prepared

    def _classify(
        self,
        mem: duckdb.DuckDBPyConnection,
        pending: Sequence[_Pending],
        now: datetime,
        combined: Path,
        limits: InputLimits,
    ) -> _Prepared:
        mem.execute(_SEGMENTS_DDL)
        prepared = _Prepared(table=None)
        todo = list(pending)
        for attempt in range(2):
            merged = coalesce([(p.idx, p.file.local_path) for p in todo], combined, limits)
            by_idx = {p.idx: p for p in todo}
            for idx, reason in merged.unreadable.items():
                prepared.unreadable[by_idx[idx].file.blob_path] = reason
            readable = [p for p in todo if p.idx in merged.files]
            mem.execute("DELETE FROM wdp_segments")
            if not readable:
                return prepared
            _insert_segments(mem, by_idx, merged.segments)
            try:
                sql = _classify_sql(combined, limits.max_line_bytes)
                relation = mem.sql(sql, params={"now": now})
                table: pa.Table = relation.to_arrow_table()
            except _FILE_ERRORS:
                if attempt == 1:
                    raise
                bad = _probe(mem, readable, limits.max_line_bytes)
                prepared.unreadable.update(bad)
                todo = [p for p in readable if p.file.blob_path not in bad]
                continue
            if table.num_rows != merged.total_lines:
                raise RuntimeError(
                    "line accounting mismatch: "
                    f"wrote {merged.total_lines} lines, DuckDB read {table.num_rows}"
                )
            prepared.table = table
            prepared.placed = merged.files
            return prepared
        return prepared

    def _insert_batch(
        self,
        con: duckdb.DuckDBPyConnection,
        batch_id: str,
        now: datetime,
        prepared: _Prepared,
        readable: Sequence[_Pending],
        result: LoadResult,
    ) -> None:
        """Raw rows, quarantined lines and one history row per file: all set-based SQL."""
        if not readable or prepared.table is None:
            return
        table = prepared.table
        if len(readable) < len(prepared.placed):  # some prepared files were loaded meanwhile
            keep = pa.array([p.idx for p in readable], pa.int32())
            table = table.filter(pc.is_in(table["file_idx"], value_set=keep))
        con.register("wdp_classified", table)
        con.execute(_FILES_DDL)
        _insert_files(con, readable, prepared.placed)
        for resource in sorted({p.file.resource for p in readable}):
            con.execute(
                f"""
                INSERT INTO {SCHEMA}.{table_name(resource)}
                SELECT
                    record_id, user_id, updated_at, is_tombstone, tombstone_key_field,
                    CAST(line AS JSON), blob_path, line_number, CAST(? AS TIMESTAMP), ?, trace_id
                FROM wdp_classified
                WHERE resource = ? AND problem IS NULL
                """,
                [now, batch_id, resource],
            )
        con.execute(
            f"""
            INSERT INTO {SCHEMA}.quarantine_records
            SELECT blob_path, resource, line_number, problem, line, ?,
                   CAST(? AS TIMESTAMP)
            FROM wdp_classified WHERE problem <> '{REASON_BLANK}'
            """,
            [batch_id, now],
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE wdp_counts AS
            SELECT f.file_idx, f.blob_path, f.etag, f.content_sha256, f.resource,
                   count(c.line_number) FILTER (WHERE c.problem IS NULL) AS good,
                   count(c.line_number) FILTER (WHERE c.problem <> 'blank') AS bad
            FROM wdp_files AS f LEFT JOIN wdp_classified AS c USING (file_idx)
            GROUP BY ALL
            """
        )
        con.execute(
            f"""
            INSERT INTO {SCHEMA}.load_history
            SELECT blob_path, etag, content_sha256, ?, good, '{STATUS_LOADED}',
                   CASE WHEN bad > 0 THEN bad || ' line(s) quarantined' END, CAST(? AS TIMESTAMP)
            FROM wdp_counts ORDER BY file_idx
            """,
            [batch_id, now],
        )
        for resource, good, bad in con.execute(
            "SELECT resource, sum(good), sum(bad) FROM wdp_counts GROUP BY resource"
        ).fetchall():
            result.rows_by_resource[resource] = int(good)
            if bad:
                log.warning(
                    "quarantined bad lines",
                    extra={"resource": resource, "lines": int(bad), "batch_id": batch_id},
                )
        users = con.execute(
            "SELECT DISTINCT user_id FROM wdp_classified WHERE problem IS NULL"
        ).fetchall()
        result.user_ids.update(int(u[0]) for u in users)
        result.loaded_files.extend(p.file.blob_path for p in readable)

    def _record_failures(
        self,
        con: duckdb.DuckDBPyConnection,
        batch_id: str,
        now: datetime,
        unreadable: Mapping[str, str],
        missing: Sequence[BronzeFile],
        pending: Sequence[_Pending],
        result: LoadResult,
    ) -> None:
        quarantine_rows, history_rows = failure_rows(
            batch_id, now, (p.file for p in pending), unreadable, missing, result
        )
        if quarantine_rows:
            con.executemany(
                f"INSERT INTO {SCHEMA}.quarantine_files VALUES (?, ?, ?, ?)", quarantine_rows
            )
        if history_rows:
            con.executemany(
                f"INSERT INTO {SCHEMA}.load_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)", history_rows
            )


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _insert_files(
    con: duckdb.DuckDBPyConnection,
    readable: Sequence[_Pending],
    placed: Mapping[int, CoalescedFile],
) -> None:
    """Fill ``wdp_files``: one row per readable file with where its lines are."""
    if not readable:
        return
    rows = [
        (
            p.idx,
            p.file.blob_path,
            p.file.resource,
            p.file.trace_id,
            _naive_utc(p.file.fetched_at),
            p.file.etag,
            p.file.content_sha256,
            placed[p.idx].first_rn,
            placed[p.idx].lines,
        )
        for p in readable
    ]
    types = (
        "INTEGER", "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP", "VARCHAR", "VARCHAR",
        "BIGINT", "BIGINT",
    )  # fmt: skip
    unnests = ", ".join(f"unnest(CAST(? AS {t}[]))" for t in types)
    con.execute(
        f"INSERT INTO wdp_files SELECT {unnests}",
        [list(column) for column in zip(*rows, strict=True)],
    )


def _insert_segments(
    con: duckdb.DuckDBPyConnection,
    by_idx: Mapping[int, _Pending],
    segments: Sequence[Segment],
) -> None:
    """Fill ``wdp_segments``: one row per segment with its file's columns."""
    if not segments:
        return
    rows = [
        (
            s.seg,
            s.file_idx,
            by_idx[s.file_idx].file.blob_path,
            by_idx[s.file_idx].file.resource,
            by_idx[s.file_idx].file.trace_id,
            _naive_utc(by_idx[s.file_idx].file.fetched_at),
            s.first_rn,
            s.first_line,
        )
        for s in segments
    ]
    types = ("INTEGER", "INTEGER", "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP", "BIGINT", "BIGINT")
    unnests = ", ".join(f"unnest(CAST(? AS {t}[]))" for t in types)
    con.execute(
        f"INSERT INTO wdp_segments SELECT {unnests}",
        [list(column) for column in zip(*rows, strict=True)],
    )


def _probe(
    con: duckdb.DuckDBPyConnection, readable: Sequence[_Pending], max_line: int
) -> dict[str, str]:
    """Read each file alone with DuckDB to find the ones it rejects (e.g. invalid UTF-8).

    Only files the coalescer accepted get here, so each is within the input limits.
    """
    bad: dict[str, str] = {}
    for p in readable:
        compression = "gzip" if is_gzip(p.file.local_path) else "none"
        reader = _read_csv_sql(p.file.local_path, "{'line': 'VARCHAR'}", compression, max_line)
        try:
            con.execute(f"SELECT count(*) FROM {reader}").fetchall()
        except _FILE_ERRORS as exc:
            bad[p.file.blob_path] = f"unreadable: {str(exc)[:500]}"
    return bad
