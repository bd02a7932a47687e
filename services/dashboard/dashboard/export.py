"""Export the gold tables to CSV files: the Power BI project's offline data source.

``powerbi/`` reads Snowflake in production; for a laptop without Snowflake (or to hand a
member their own data) ``wdp dashboard export-csv`` writes one ``<table>.csv`` per gold table,
which the PBIP's ``DataSource = "CSV"`` switch reads from ``CsvFolder``. Everything goes through
the ``Warehouse`` port, so the DuckDB lock is respected while the pipeline runs.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboard.repository import GoldReader
from shared.ports import Warehouse

log = logging.getLogger(__name__)

#: Every table the semantic model loads (docs/data-model.md, gold).
GOLD_EXPORT_TABLES: tuple[str, ...] = (
    "fact_daily_recovery",
    "fact_sleep",
    "fact_strain",
    "fact_workouts",
    "fact_predictions",
    "dim_date",
    "dim_activity_type",
    "dim_sleep_stage",
    "agg_weekly_user",
    "agg_monthly_user",
    "mart_data_quality",
)


def _cell(value: Any) -> Any:
    """CSV text Power BI parses: ISO timestamps, lower-case booleans, arrays as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return value


def export_gold_csv(
    warehouse: Warehouse,
    out_dir: Path,
    *,
    gold_schema: str = "gold",
    user_ids: Sequence[int] | None = None,
    tables: Sequence[str] = GOLD_EXPORT_TABLES,
) -> dict[str, int]:
    """Write ``<out_dir>/<table>.csv`` for every gold table that exists.

    Args:
        warehouse: the platform warehouse (any adapter).
        out_dir: created if missing; files are overwritten.
        gold_schema: schema of the gold tables (a validated identifier).
        user_ids: only these members' rows of tables with a ``user_key`` (``None`` = all).
        tables: which gold tables to export.

    Returns:
        Rows written per table (tables that do not exist yet are skipped).
    """
    reader = GoldReader(warehouse, gold_schema=gold_schema, bronze_schema="bronze")
    existing = reader.existing_tables()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for table in tables:
        if not reader.has(existing, table):
            log.info("gold table not built yet; skipped", extra={"table": table})
            continue
        columns = _columns(warehouse, gold_schema, table)
        sql = f"select {', '.join(columns)} from {gold_schema}.{table}"
        params: list[Any] = []
        if user_ids is not None and "user_key" in columns:
            sql += " where user_key in (" + ", ".join("?" for _ in user_ids) + ")"
            params = [int(u) for u in user_ids]
        data = [
            {str(k).lower(): v for k, v in r.items()} for r in warehouse.query(sql, params or None)
        ]
        path = out_dir / f"{table}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in data:
                writer.writerow([_cell(row.get(c)) for c in columns])
        written[table] = len(data)
    log.info("gold exported to CSV", extra={"out_dir": str(out_dir), "rows": written})
    return written


def _columns(warehouse: Warehouse, schema: str, table: str) -> list[str]:
    rows = warehouse.query(
        "select column_name from information_schema.columns "
        "where lower(table_schema) = ? and lower(table_name) = ? order by ordinal_position",
        [schema.lower(), table.lower()],
    )
    return [str(next(iter(r.values()))).lower() for r in rows]
