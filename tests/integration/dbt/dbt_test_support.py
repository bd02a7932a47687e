"""Helpers for the dbt integration tests: bronze rows from WHOOP records, and running dbt.

Bronze is filled through the loader's ``DuckDBWarehouse.load_bronze`` when it is importable
(the real path); ``insert_bronze_rows`` is the fallback that writes the raw-table columns of
docs/data-model.md directly, used only while the loader adapter is not there.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
RESOURCES = ("cycle", "sleep", "recovery", "workout", "profile", "body_measurement")

RAW_COLUMNS_DDL = """
    record_id varchar, user_id bigint, updated_at timestamp, is_tombstone boolean,
    tombstone_key_field varchar, payload json, source_file varchar, line_number integer,
    load_timestamp timestamp, batch_id varchar, trace_id varchar
"""


def parse_ts(text: str) -> datetime:
    """WHOOP's ISO-8601 UTC (``...Z``) as a naive UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def record_key(resource: str, record: Mapping[str, Any]) -> str:
    """``record_id`` per docs/data-model.md."""
    if record.get("wdp_tombstone"):
        return str(record["key"])
    if resource == "recovery":
        return str(record["cycle_id"])
    if resource in ("profile", "body_measurement"):
        return str(record["user_id"])
    return str(record["id"])


@dataclass(frozen=True)
class BronzeRow:
    record_id: str
    user_id: int
    updated_at: datetime
    is_tombstone: bool
    tombstone_key_field: str | None
    payload: str
    source_file: str
    line_number: int


def bronze_rows(
    resource: str, records: Sequence[Mapping[str, Any]], source_file: str, fetched_at: datetime
) -> list[BronzeRow]:
    rows = []
    for n, rec in enumerate(records, start=1):
        tomb = bool(rec.get("wdp_tombstone"))
        if tomb:
            updated = parse_ts(str(rec["deleted_at"]))
        elif resource in ("profile", "body_measurement"):
            updated = fetched_at
        else:
            updated = parse_ts(str(rec["updated_at"]))
        rows.append(
            BronzeRow(
                record_id=record_key(resource, rec),
                user_id=int(rec["user_id"]),
                updated_at=updated,
                is_tombstone=tomb,
                tombstone_key_field=str(rec["key_field"]) if tomb else None,
                payload=json.dumps(rec),
                source_file=source_file,
                line_number=n,
            )
        )
    return rows


def ensure_raw_tables(con: Any) -> None:
    """Fallback DDL for ``bronze.raw_<resource>`` (only when the loader adapter is absent)."""
    con.execute("create schema if not exists bronze")
    for resource in RESOURCES:
        con.execute(f"create table if not exists bronze.raw_{resource} ({RAW_COLUMNS_DDL})")


def insert_bronze_rows(
    con: Any, resource: str, rows: Iterable[BronzeRow], *, batch_id: str, load_ts: datetime
) -> None:
    con.executemany(
        f"insert into bronze.raw_{resource} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r.record_id,
                r.user_id,
                r.updated_at,
                r.is_tombstone,
                r.tombstone_key_field,
                r.payload,
                r.source_file,
                r.line_number,
                load_ts,
                batch_id,
                None,
            )
            for r in rows
        ],
    )


def write_ndjson_gz(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    return path


def run_dbt(args: Sequence[str], *, duckdb_file: Path, target: str = "duckdb") -> Any:
    """Run dbt in-process against the repo project; raises with dbt's messages on failure."""
    from dbt.cli.main import dbtRunner

    os.environ["WDP_DUCKDB_FILE"] = str(duckdb_file)
    result = dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            target,
        ]
    )
    if not result.success:
        failures = []
        for res in getattr(result.result, "results", None) or []:
            if str(res.status) in ("error", "fail"):
                failures.append(f"{res.node.unique_id}: {res.message}")
        raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception} {failures}")
    return result
