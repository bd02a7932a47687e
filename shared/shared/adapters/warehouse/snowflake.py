"""``SnowflakeWarehouse``: bronze raw tables as VARIANT, loaded through a stage and COPY INTO.

Load path (one micro-batch):

1. Skip files whose (blob path, etag or content hash) is in ``LOAD_HISTORY``.
2. Internal stage (default): the adapter streams each local file once (constant memory) into a
   gzip NDJSON *envelope* ``{"b": batch, "f": file, "n": line_no, "line": "<raw text>", ...}``,
   ``PUT``\\s it to ``@WDP_BRONZE_STAGE/<batch>/`` and ``COPY INTO LOAD_STAGING
   FILE_FORMAT = (TYPE = JSON)``. Wrapping each line as a string keeps malformed lines (they are
   quarantined with their text and line number) and exact line numbers, which a plain JSON COPY
   cannot: it aborts on the first bad line, and ``METADATA$FILE_ROW_NUMBER`` is not emulated.
   A file that cannot be read (bad gzip, not UTF-8) is quarantined before anything is sent.
   External stage (``WDP_SNOWFLAKE_EXTERNAL_STAGE``, ADLS via a storage integration): no PUT;
   ``COPY INTO LOAD_STAGING FROM (SELECT OBJECT_CONSTRUCT(..., METADATA$FILE_ROW_NUMBER, $1)
   FROM @stage/<blob path>)`` reads the blob where it lies, one file per COPY so a broken file
   fails alone. That path needs a real account (see docs/warehouse.md).
3. One transaction: ``INSERT ... SELECT`` with ``TRY_PARSE_JSON`` and the per-resource key
   derivations into ``RAW_<RESOURCE>``, bad lines into ``QUARANTINE_RECORDS``, one
   ``LOAD_HISTORY`` row per file, and the batch's staging rows deleted.

Snowflake has no single-writer rule, so ``exclusive()`` stays the port's no-op.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import snowflake.connector
from snowflake.connector import DictCursor, SnowflakeConnection
from snowflake.connector.errors import DatabaseError, OperationalError

from shared.adapters.warehouse.bronze import (
    FETCH_TIME_RESOURCES,
    KEY_FIELD,
    REASON_BAD_TIMESTAMP,
    REASON_BAD_USER_ID,
    REASON_INVALID_JSON,
    REASON_MISSING_KEYS,
    RESOURCES,
    STATUS_LOADED,
    UNREADABLE_ERRORS,
    InputTooLarge,
    LoadKey,
    WarehouseUnavailable,
    already_loaded,
    dedupe_batch,
    failure_rows,
    iter_lines,
    table_name,
)
from shared.errors import ConfigurationError
from shared.ports.warehouse import BronzeFile, InputLimits, LoadResult, Warehouse
from shared.settings import PlatformSettings
from shared.snowflake_naming import naming

log = logging.getLogger(__name__)

STAGE = "WDP_BRONZE_STAGE"
_IDENTIFIER = re.compile(r"[A-Z_][A-Z0-9_$]{0,254}")
STAGING_TABLE = "LOAD_STAGING"

_TS_PATTERN = (
    "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    "([.][0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?"
)

RAW_COLUMNS_DDL = """
    RECORD_ID VARCHAR NOT NULL,
    USER_ID NUMBER(19, 0) NOT NULL,
    UPDATED_AT TIMESTAMP_NTZ NOT NULL,
    IS_TOMBSTONE BOOLEAN NOT NULL,
    TOMBSTONE_KEY_FIELD VARCHAR,
    PAYLOAD VARIANT NOT NULL,
    SOURCE_FILE VARCHAR NOT NULL,
    LINE_NUMBER INTEGER NOT NULL,
    LOAD_TIMESTAMP TIMESTAMP_NTZ NOT NULL,
    BATCH_ID VARCHAR NOT NULL,
    TRACE_ID VARCHAR
"""


def schema_ddl(fq: str, *, internal_stage: bool = True, create_schema: bool = True) -> list[str]:
    """Every CREATE statement ``ensure_schema`` runs, for schema ``fq`` (``DB.SCHEMA``).

    ``create_schema=False`` leaves the schema out: in production Terraform creates it and the
    loader's role holds no ``CREATE SCHEMA`` (infrastructure/snowflake/terraform).
    """
    stmts = [f"CREATE SCHEMA IF NOT EXISTS {fq}"] if create_schema else []
    stmts += [
        f"CREATE TABLE IF NOT EXISTS {fq}.{table_name(r).upper()} ({RAW_COLUMNS_DDL})"
        for r in RESOURCES
    ]
    stmts += [
        # ROWS is a reserved word in Snowflake, hence the quotes (same name as unquoted ROWS)
        f"""CREATE TABLE IF NOT EXISTS {fq}.LOAD_HISTORY (
            BLOB_PATH VARCHAR NOT NULL,
            ETAG VARCHAR,
            CONTENT_SHA256 VARCHAR,
            BATCH_ID VARCHAR NOT NULL,
            "ROWS" NUMBER(19, 0) NOT NULL,
            STATUS VARCHAR NOT NULL,
            REASON VARCHAR,
            LOADED_AT TIMESTAMP_NTZ NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS {fq}.QUARANTINE_FILES (
            BLOB_PATH VARCHAR NOT NULL,
            ETAG VARCHAR,
            REASON VARCHAR NOT NULL,
            QUARANTINED_AT TIMESTAMP_NTZ NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS {fq}.QUARANTINE_RECORDS (
            BLOB_PATH VARCHAR NOT NULL,
            RESOURCE VARCHAR NOT NULL,
            LINE_NUMBER INTEGER NOT NULL,
            REASON VARCHAR NOT NULL,
            RAW_LINE VARCHAR,
            BATCH_ID VARCHAR NOT NULL,
            QUARANTINED_AT TIMESTAMP_NTZ NOT NULL
        )""",
        f"CREATE TRANSIENT TABLE IF NOT EXISTS {fq}.{STAGING_TABLE} (V VARIANT)",
    ]
    if internal_stage:
        stmts.append(f"CREATE STAGE IF NOT EXISTS {fq}.{STAGE}")
    return stmts


def _classified_cte(fq: str) -> str:
    """``classified``: one row per staged line with derived columns and its first problem."""
    key_by_resource = " ".join(f"WHEN '{r}' THEN p:{KEY_FIELD[r]}::VARCHAR" for r in RESOURCES)
    fetch_time = ", ".join(f"'{r}'" for r in sorted(FETCH_TIME_RESOURCES))
    return f"""
    WITH lines AS (
        SELECT
            V:f::INTEGER AS file_idx,
            V:n::INTEGER AS line_number,
            V:line::VARCHAR AS line,
            V:r::VARCHAR AS resource,
            V:p::VARCHAR AS blob_path,
            V:t::VARCHAR AS trace_id,
            V:ft::VARCHAR AS fetched_at_text,
            TRY_PARSE_JSON(V:line::VARCHAR) AS p
        FROM {fq}.{STAGING_TABLE}
        WHERE V:b::VARCHAR = ? AND TRIM(V:line::VARCHAR) <> ''
    ), flagged AS (
        SELECT *, COALESCE(p:wdp_tombstone::VARCHAR = 'true', FALSE) AS is_tombstone
        FROM lines
    ), derived AS (
        SELECT
            *,
            CASE WHEN is_tombstone THEN p:key::VARCHAR
                 ELSE CASE resource {key_by_resource} END END AS record_id,
            p:user_id::VARCHAR AS user_id_text,
            CASE WHEN is_tombstone THEN p:deleted_at::VARCHAR
                 WHEN resource IN ({fetch_time}) THEN NULL
                 ELSE p:updated_at::VARCHAR END AS updated_at_text
        FROM flagged
    ), classified AS (
        SELECT
            *,
            CASE
                WHEN p IS NULL THEN '{REASON_INVALID_JSON}'
                WHEN record_id IS NULL OR user_id_text IS NULL
                     OR (updated_at_text IS NULL
                         AND (is_tombstone OR resource NOT IN ({fetch_time})))
                    THEN '{REASON_MISSING_KEYS}'
                WHEN NOT REGEXP_LIKE(user_id_text, '-?[0-9]+') THEN '{REASON_BAD_USER_ID}'
                WHEN updated_at_text IS NOT NULL
                     AND NOT REGEXP_LIKE(updated_at_text, '{_TS_PATTERN}')
                    THEN '{REASON_BAD_TIMESTAMP}'
            END AS problem
        FROM derived
    )
    """


def _params(
    params: Sequence[Any] | Mapping[str, Any] | None,
) -> Sequence[Any] | dict[str, Any] | None:
    """The connector wants a dict (pyformat) or a sequence (qmark); we run qmark."""
    if params is None or isinstance(params, Sequence):
        return params
    return dict(params)


def _utc_ntz(expr: str) -> str:
    return f"CONVERT_TIMEZONE('UTC', CAST({expr} AS TIMESTAMP_TZ))::TIMESTAMP_NTZ"


def _sql_str(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SnowflakeWarehouse(Warehouse):
    """Snowflake (or the fakesnow emulator) through snowflake-connector-python.

    Args:
        connect_kwargs: passed to ``snowflake.connector.connect`` (auth, host, role...).
        database / schema: where the bronze objects live (``WHOOP.BRONZE``).
        create_database: create the database on connect (emulator and dev only; in production
            infrastructure/snowflake creates it and the loader role may not).
        external_stage: fully qualified external stage on the ADLS container; when set, COPY
            reads blobs in place instead of PUTting local files.
        publish_roles: schema → role that owns its published copy (``GOLD`` →
            ``WDP_GOLD_PUBLISHER``: the transformer and the scorer both publish into
            ``GOLD_PUBLISHED`` and ``SWAP`` needs ownership of both schemas, so both switch to
            the one role that owns them). Used only when the session's role is known.
    """

    publishes = True

    def __init__(
        self,
        connect_kwargs: Mapping[str, Any],
        *,
        database: str = "WHOOP",
        schema: str = "BRONZE",
        create_database: bool = False,
        external_stage: str | None = None,
        publish_roles: Mapping[str, str] | None = None,
    ) -> None:
        self._connect_kwargs = dict(connect_kwargs)
        self.publish_roles = dict(publish_roles or {})
        self.database = database.upper()
        self.schema = schema.upper()
        self.fq = f"{self.database}.{self.schema}"
        self.create_database = create_database
        self.external_stage = external_stage
        self._conn: SnowflakeConnection | None = None
        self._lock = threading.RLock()
        self._schema_ready = False

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> SnowflakeWarehouse:
        """Key-pair auth when a private key is configured, else password (the emulator).

        Raises:
            ConfigurationError: no account/user, or neither a key nor a password.
        """
        if not settings.snowflake_account or not settings.snowflake_user:
            raise ConfigurationError(
                "WDP_WAREHOUSE=snowflake needs WDP_SNOWFLAKE_ACCOUNT and WDP_SNOWFLAKE_USER"
            )
        kwargs: dict[str, Any] = {
            "account": settings.snowflake_account,
            "user": settings.snowflake_user,
            "application": "wdp-loader",
            "client_session_keep_alive": False,
        }
        if settings.snowflake_private_key_path is not None:
            kwargs["authenticator"] = "SNOWFLAKE_JWT"
            kwargs["private_key"] = _private_key_der(
                settings.snowflake_private_key_path, settings.snowflake_private_key_passphrase
            )
        elif settings.snowflake_password is not None:
            kwargs["password"] = settings.snowflake_password.get_secret_value()
        else:
            raise ConfigurationError(
                "Snowflake needs WDP_SNOWFLAKE_PRIVATE_KEY_PATH (key-pair auth) or "
                "WDP_SNOWFLAKE_PASSWORD (emulator only)"
            )
        for key, value in (
            ("role", settings.snowflake_role),
            ("warehouse", settings.snowflake_warehouse),
            ("host", settings.snowflake_host),
            ("port", settings.snowflake_port),
        ):
            if value is not None:
                kwargs[key] = value
        kwargs["protocol"] = settings.snowflake_protocol
        emulator = settings.snowflake_host is not None and settings.snowflake_protocol == "http"
        return cls(
            kwargs,
            database=settings.snowflake_database,
            schema=settings.snowflake_schema,
            create_database=emulator,
            external_stage=settings.snowflake_external_stage,
            publish_roles={} if emulator else naming().publish_roles,
        )

    # --- connection ----------------------------------------------------------------------

    def _connection(self) -> SnowflakeConnection:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        try:
            conn = snowflake.connector.connect(**self._connect_kwargs, paramstyle="qmark")
            cur = conn.cursor()
            if self.create_database:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.fq}")
            cur.execute(f"USE DATABASE {self.database}")
            cur.execute(f"USE SCHEMA {self.fq}")
        except OperationalError as exc:
            raise WarehouseUnavailable(f"cannot connect to Snowflake: {exc.msg}") from exc
        self._conn = conn
        return conn

    @contextmanager
    def _cursor(self) -> Iterator[DictCursor]:
        with self._lock:
            cur = self._connection().cursor(DictCursor)
            try:
                yield cur
            except OperationalError as exc:
                self.close()
                raise WarehouseUnavailable(f"Snowflake call failed: {exc.msg}") from exc
            finally:
                cur.close()

    def close(self) -> None:
        """Close the session (a new one opens on the next call)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def clone_database(self, target: str) -> str:
        """Zero-copy clone of the whole database (dev/CI copies cost no storage until changed).

        ``CREATE OR REPLACE DATABASE <target> CLONE <database>``: metadata only, seconds for
        any size; the clone shares micro-partitions with the source until either side writes.
        Not supported by the fakesnow emulator (see docs/warehouse.md).

        Raises:
            ValueError: ``target`` is not a plain identifier or names the source database.
        """
        name = target.upper()
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain Snowflake identifier: {target!r}")
        if name == self.database:
            raise ValueError("clone target is the source database itself")
        self.execute(f"CREATE OR REPLACE DATABASE {name} CLONE {self.database}")
        log.info("cloned Snowflake database", extra={"source": self.database, "target": name})
        return name

    def publish(self, tables: Sequence[str]) -> dict[str, int]:
        """Write-audit-publish on Snowflake: zero-copy clones and an atomic schema swap.

        Readers (secure BI views, the dashboard) read ``<SCHEMA>_PUBLISHED``. See
        :func:`publish_statements`; row counts come from the published tables.
        """
        role = self._connect_kwargs.get("role")
        for stmt in publish_statements(
            self.database,
            tables,
            publish_roles=self.publish_roles,
            session_role=str(role) if role else None,
        ):
            self.execute(stmt)
        counts: dict[str, int] = {}
        for name in tables:
            schema, table = (part.upper() for part in name.split("."))
            rows = self.query(
                f"SELECT COUNT(*) AS N FROM {self.database}.{schema}_PUBLISHED.{table}"  # noqa: S608
            )
            counts[name] = int(next(iter(rows[0].values()))) if rows else 0
        log.info("published Snowflake tables", extra={"tables": len(counts)})
        return counts

    # --- port ----------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create schema, raw/history/quarantine/staging tables and the stage if absent."""
        with self._cursor() as cur:
            for stmt in schema_ddl(
                self.fq,
                internal_stage=self.external_stage is None,
                create_schema=self.create_database,
            ):
                cur.execute(stmt)
        self._schema_ready = True

    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run a read query; column names come back lower case, as DuckDB's do."""
        with self._cursor() as cur:
            cur.execute(sql, _params(params))
            rows: list[dict[str, Any]] = cur.fetchall()  # type: ignore[assignment]
            return [{k.lower(): v for k, v in row.items()} for row in rows]

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        """Run one write statement (autocommit: its own transaction)."""
        with self._cursor() as cur:
            cur.execute(sql, _params(params))

    def load_bronze(
        self,
        batch_id: str,
        files: Sequence[BronzeFile],
        *,
        limits: InputLimits | None = None,
    ) -> LoadResult:
        """Stage, COPY and insert a micro-batch in one transaction; skip loaded files.

        A file over ``limits`` is quarantined while the envelope is written (internal
        stage); the external stage reads files in place, where Snowflake's own limits apply.
        """
        if not self._schema_ready:
            self.ensure_schema()
        result = LoadResult(batch_id=batch_id)
        unique, repeats = dedupe_batch(files)
        result.skipped_files.extend(f.blob_path for f in repeats)
        now = datetime.now(UTC).replace(tzinfo=None)
        with self._cursor() as cur:
            history = self._history(cur, [f.blob_path for f in unique])
            pending: list[tuple[int, BronzeFile]] = []
            missing: list[BronzeFile] = []
            for f in unique:
                if already_loaded(f, history):
                    result.skipped_files.append(f.blob_path)
                elif self.external_stage is None and not f.local_path.exists():
                    missing.append(f)
                else:
                    pending.append((len(pending), f))
            if self.external_stage is None:
                unreadable = self._stage_internal(cur, batch_id, pending, limits or InputLimits())
            else:
                unreadable = self._stage_external(cur, batch_id, pending)
            readable = [(i, f) for i, f in pending if f.blob_path not in unreadable]
            cur.execute("BEGIN")
            try:
                self._insert_batch(cur, batch_id, now, readable, result)
                self._record_failures(cur, batch_id, now, pending, unreadable, missing, result)
                cur.execute(
                    f"DELETE FROM {self.fq}.{STAGING_TABLE} WHERE V:b::VARCHAR = ?", [batch_id]
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        log.info(
            "bronze batch loaded",
            extra={
                "batch_id": batch_id,
                "files": len(result.loaded_files),
                "skipped": len(result.skipped_files),
                "quarantined": len(result.quarantined),
                "rows": sum(result.rows_by_resource.values()),
                "warehouse": "snowflake",
            },
        )
        return result

    # --- load steps ----------------------------------------------------------------------

    def _history(self, cur: DictCursor, paths: Sequence[str]) -> list[LoadKey]:
        keys: list[LoadKey] = []
        distinct = sorted(set(paths))
        for start in range(0, len(distinct), 500):
            chunk = distinct[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            cur.execute(
                f"SELECT BLOB_PATH, ETAG, CONTENT_SHA256 FROM {self.fq}.LOAD_HISTORY "
                f"WHERE BLOB_PATH IN ({marks})",
                chunk,
            )
            for row in cur.fetchall():
                r: dict[str, Any] = row  # type: ignore[assignment]
                keys.append(LoadKey(r["BLOB_PATH"], r["ETAG"], r["CONTENT_SHA256"]))
        return keys

    def _stage_internal(
        self,
        cur: DictCursor,
        batch_id: str,
        pending: Sequence[tuple[int, BronzeFile]],
        limits: InputLimits,
    ) -> dict[str, str]:
        """Envelope every readable file into one gzip file, PUT it, COPY it into staging."""
        unreadable: dict[str, str] = {}
        if not pending:
            return unreadable
        with tempfile.TemporaryDirectory(prefix="wdp-sf-") as tmp:
            envelope = Path(tmp) / f"{batch_id}.ndjson.gz"
            part = Path(tmp) / "part.ndjson.gz"
            wrote_any = False
            with envelope.open("wb") as out:
                for idx, f in pending:
                    try:
                        _write_envelope(part, batch_id, idx, f, limits)
                    except InputTooLarge as exc:
                        unreadable[f.blob_path] = exc.reason
                        continue
                    except UNREADABLE_ERRORS as exc:
                        unreadable[f.blob_path] = f"unreadable: {type(exc).__name__}: {exc}"
                        continue
                    # gzip members concatenate into one valid gzip stream
                    with part.open("rb") as src:
                        while chunk := src.read(1 << 20):
                            out.write(chunk)
                    wrote_any = True
            if not wrote_any:
                return unreadable
            target = f"@{self.fq}.{STAGE}/{batch_id}/"
            cur.execute(
                f"PUT 'file://{envelope.as_posix()}' {target} "
                "AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
            )
            cur.execute(
                f"COPY INTO {self.fq}.{STAGING_TABLE} FROM {target} "
                "FILE_FORMAT = (TYPE = JSON) PURGE = TRUE"
            )
        return unreadable

    def _stage_external(
        self, cur: DictCursor, batch_id: str, pending: Sequence[tuple[int, BronzeFile]]
    ) -> dict[str, str]:
        """COPY each blob in place from the ADLS external stage (not runnable on fakesnow)."""
        unreadable: dict[str, str] = {}
        for idx, f in pending:
            fetched = f.fetched_at.astimezone(UTC).isoformat() if f.fetched_at else None
            select = (
                "SELECT OBJECT_CONSTRUCT("
                f"'b', {_sql_str(batch_id)}, 'f', {idx}, 'n', METADATA$FILE_ROW_NUMBER, "
                f"'line', $1, 'r', {_sql_str(f.resource)}, 'p', {_sql_str(f.blob_path)}, "
                f"'t', {_sql_str(f.trace_id)}, 'ft', {_sql_str(fetched)}) "
                f"FROM @{self.external_stage}/{f.blob_path}"
            )
            try:
                cur.execute(
                    f"COPY INTO {self.fq}.{STAGING_TABLE} FROM ({select}) "
                    "FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = NONE "
                    "ESCAPE_UNENCLOSED_FIELD = NONE FIELD_OPTIONALLY_ENCLOSED_BY = NONE "
                    "SKIP_BLANK_LINES = TRUE COMPRESSION = AUTO) FORCE = TRUE"
                )
            except DatabaseError as exc:
                if isinstance(exc, OperationalError):
                    raise
                unreadable[f.blob_path] = f"unreadable: {exc.msg}"
        return unreadable

    def _insert_batch(
        self,
        cur: DictCursor,
        batch_id: str,
        now: datetime,
        readable: Sequence[tuple[int, BronzeFile]],
        result: LoadResult,
    ) -> None:
        if not readable:
            return
        now_text = now.isoformat(sep=" ")
        cte = _classified_cte(self.fq)
        for resource in sorted({f.resource for _, f in readable}):
            cur.execute(
                f"""
                INSERT INTO {self.fq}.{table_name(resource).upper()} (
                    RECORD_ID, USER_ID, UPDATED_AT, IS_TOMBSTONE, TOMBSTONE_KEY_FIELD, PAYLOAD,
                    SOURCE_FILE, LINE_NUMBER, LOAD_TIMESTAMP, BATCH_ID, TRACE_ID)
                {cte}
                SELECT
                    record_id,
                    user_id_text::NUMBER(19, 0),
                    COALESCE({_utc_ntz("updated_at_text")}, {_utc_ntz("fetched_at_text")},
                             TO_TIMESTAMP_NTZ(?)),
                    is_tombstone,
                    CASE WHEN is_tombstone THEN p:key_field::VARCHAR END,
                    p,
                    blob_path,
                    line_number,
                    TO_TIMESTAMP_NTZ(?),
                    ?,
                    trace_id
                FROM classified
                WHERE resource = ? AND problem IS NULL
                """,
                [batch_id, now_text, now_text, batch_id, resource],
            )
        cur.execute(
            f"""
            INSERT INTO {self.fq}.QUARANTINE_RECORDS (
                BLOB_PATH, RESOURCE, LINE_NUMBER, REASON, RAW_LINE, BATCH_ID, QUARANTINED_AT)
            {cte}
            SELECT blob_path, resource, line_number, problem, line, ?, TO_TIMESTAMP_NTZ(?)
            FROM classified WHERE problem IS NOT NULL
            """,
            [batch_id, batch_id, now_text],
        )
        cur.execute(
            f"""
            {cte}
            SELECT file_idx,
                   SUM(CASE WHEN problem IS NULL THEN 1 ELSE 0 END) AS good,
                   SUM(CASE WHEN problem IS NULL THEN 0 ELSE 1 END) AS bad
            FROM classified GROUP BY file_idx
            """,
            [batch_id],
        )
        counts: dict[int, tuple[int, int]] = {}
        for row in cur.fetchall():
            r: dict[str, Any] = row  # type: ignore[assignment]
            counts[int(r["FILE_IDX"])] = (int(r["GOOD"] or 0), int(r["BAD"] or 0))
        cur.execute(
            f"{cte} SELECT DISTINCT user_id_text AS u FROM classified WHERE problem IS NULL",
            [batch_id],
        )
        for row in cur.fetchall():
            r = row  # type: ignore[assignment]
            result.user_ids.add(int(r["U"]))
        history_rows: list[list[Any]] = []
        for idx, f in readable:
            good, bad = counts.get(idx, (0, 0))
            result.loaded_files.append(f.blob_path)
            result.rows_by_resource[f.resource] = result.rows_by_resource.get(f.resource, 0) + good
            reason = f"{bad} line(s) quarantined" if bad else None
            history_rows.append(
                [f.blob_path, f.etag, f.content_sha256, batch_id, good, STATUS_LOADED, reason, now]
            )
        self._insert_history(cur, history_rows)

    def _insert_history(self, cur: DictCursor, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            cur.executemany(
                f"INSERT INTO {self.fq}.LOAD_HISTORY (BLOB_PATH, ETAG, CONTENT_SHA256, BATCH_ID, "
                '"ROWS", STATUS, REASON, LOADED_AT) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                rows,
            )

    def _record_failures(
        self,
        cur: DictCursor,
        batch_id: str,
        now: datetime,
        pending: Sequence[tuple[int, BronzeFile]],
        unreadable: Mapping[str, str],
        missing: Sequence[BronzeFile],
        result: LoadResult,
    ) -> None:
        quarantine_rows, history_rows = failure_rows(
            batch_id, now, (f for _, f in pending), unreadable, missing, result
        )
        if quarantine_rows:
            cur.executemany(
                f"INSERT INTO {self.fq}.QUARANTINE_FILES (BLOB_PATH, ETAG, REASON, QUARANTINED_AT) "
                "VALUES (?, ?, ?, ?)",
                quarantine_rows,
            )
        self._insert_history(cur, history_rows)


def _write_envelope(
    part: Path, batch_id: str, idx: int, f: BronzeFile, limits: InputLimits
) -> None:
    """Stream one bronze file into a gzip member of envelope lines (constant memory).

    Raises:
        OSError, EOFError, zlib.error, UnicodeDecodeError: the file is unreadable.
        InputTooLarge: the file crosses ``limits`` (nothing of it is staged).
    """
    fetched = f.fetched_at.astimezone(UTC).isoformat() if f.fetched_at else None
    head = {"b": batch_id, "f": idx, "r": f.resource, "p": f.blob_path, "t": f.trace_id}
    if fetched:
        head["ft"] = fetched
    with gzip.open(part, "wt", encoding="utf-8", compresslevel=1) as out:
        for n, line in iter_lines(f.local_path, limits=limits):
            if not line.strip():
                continue
            out.write(json.dumps({**head, "n": n, "line": line}, ensure_ascii=False))
            out.write("\n")


def _private_key_der(path: Path, passphrase: Any) -> bytes:
    """PKCS#8 DER bytes of the PEM key at ``path`` (what the connector's key-pair auth takes)."""
    from cryptography.hazmat.primitives import serialization

    password = passphrase.get_secret_value().encode() if passphrase is not None else None
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=password)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"cannot read Snowflake private key {str(path)!r}: {exc}") from exc
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def publish_statements(
    database: str,
    tables: Sequence[str],
    *,
    publish_roles: Mapping[str, str] | None = None,
    session_role: str | None = None,
) -> list[str]:
    """The SQL that publishes ``tables`` (``schema.table``) on Snowflake, schema by schema.

    Start from the *published* version (so tables another publisher owns keep their last
    published state), replace ours with zero-copy clones of the freshly audited ones, then
    swap the whole schema in one atomic ``ALTER SCHEMA ... SWAP WITH``: readers see the old
    version or the new one, never a mix. Clones are metadata-only, so this costs seconds and
    no storage until either side changes. The emulator cannot run CLONE or SWAP; the
    statements are checked by parsing them in the Snowflake dialect.

    A schema listed in ``publish_roles`` is published under that role (``USE ROLE`` before,
    back to ``session_role`` after), so its published copy has one owner whichever service
    publishes; without a ``session_role`` (the emulator) no role is switched.

    Raises:
        ValueError: a name that is not ``schema.table`` of plain identifiers.
    """
    db = database.upper()
    by_schema: dict[str, list[str]] = {}
    for name in tables:
        parts = name.upper().split(".")
        if len(parts) != 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
            raise ValueError(f"not a schema.table name: {name!r}")
        by_schema.setdefault(parts[0], []).append(parts[1])
    stmts: list[str] = []
    for schema, names in sorted(by_schema.items()):
        published, following = f"{db}.{schema}_PUBLISHED", f"{db}.{schema}_PUBLISH_NEXT"
        role = (publish_roles or {}).get(schema) if session_role else None
        switch = role is not None and role.upper() != (session_role or "").upper()
        if switch:
            stmts.append(f"USE ROLE {role}")
        stmts.append(f"CREATE SCHEMA IF NOT EXISTS {published}")
        stmts.append(f"CREATE OR REPLACE SCHEMA {following} CLONE {published}")
        stmts += [f"CREATE OR REPLACE TABLE {following}.{t} CLONE {db}.{schema}.{t}" for t in names]
        stmts.append(f"ALTER SCHEMA {published} SWAP WITH {following}")
        stmts.append(f"DROP SCHEMA IF EXISTS {following}")
        if switch:
            stmts.append(f"USE ROLE {session_role}")
    return stmts
