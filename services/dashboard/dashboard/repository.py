"""Read-only, parameterised gold queries through the ``Warehouse`` port.

The dashboard never opens the DuckDB file itself: the port's adapter owns connections and the
cross-process lock (DuckDB allows one writer process, and the loader, dbt and the scorer write).
Each method is one short query, so the dashboard holds that lock for milliseconds.

Tables appear over time (gold after the first dbt run, ``fact_predictions`` after the first
scoring), so every read first checks the table exists and answers "no rows" otherwise: a fresh
platform shows empty states, not errors. Snowflake returns upper-case column names; rows are
normalised to the lower-case gold names.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from shared.ports import Warehouse

log = logging.getLogger(__name__)

Row = dict[str, Any]

GOLD_FACTS: tuple[str, ...] = (
    "fact_daily_recovery",
    "fact_sleep",
    "fact_strain",
    "fact_workouts",
    "fact_predictions",
)

_SLEEP_COLUMNS = (
    "user_key, date_key, sleep_id, is_nap, score_state, sleep_start_timestamp, start_at_local, "
    "end_at_local, "
    "in_bed_minutes, awake_minutes, light_sleep_minutes, deep_sleep_minutes, rem_sleep_minutes, "
    "no_data_minutes, total_sleep_minutes, sleep_efficiency_pct, "
    "sleep_performance_pct, respiratory_rate"
)
_WORKOUT_COLUMNS = (
    "user_key, date_key, workout_id, activity_type_key, sport_name, score_state, "
    "workout_start_timestamp, duration_minutes, strain_score, avg_heart_rate_bpm, calories_burned"
)
_AGG_COLUMNS = (
    "avg_recovery_score, avg_hrv_rmssd_ms, avg_resting_heart_rate_bpm, avg_day_strain_score, "
    "avg_total_sleep_minutes, workout_count, workout_minutes"
)


def _lower(rows: Sequence[Mapping[str, Any]]) -> list[Row]:
    return [{str(k).lower(): v for k, v in row.items()} for row in rows]


class GoldReader:
    """Every query the dashboard runs; nothing else in the service writes SQL."""

    def __init__(self, warehouse: Warehouse, *, gold_schema: str, bronze_schema: str) -> None:
        self.warehouse = warehouse
        self.gold = gold_schema
        self.bronze = bronze_schema

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return _lower(self.warehouse.query(sql, list(params)))

    def existing_tables(self) -> set[str]:
        """``schema.table`` (lower case) of every gold and bronze table or view present."""
        rows = self._query(
            "select table_schema, table_name from information_schema.tables "
            "where lower(table_schema) in (?, ?)",
            [self.gold.lower(), self.bronze.lower()],
        )
        return {f"{r['table_schema']}.{r['table_name']}".lower() for r in rows}

    def has(self, tables: set[str], name: str, *, schema: str | None = None) -> bool:
        """Whether ``name`` exists in the gold (default) or the given schema."""
        return f"{(schema or self.gold).lower()}.{name.lower()}" in tables

    def _t(self, name: str) -> str:
        return f"{self.gold}.{name}"

    # --- users ---------------------------------------------------------------------------
    def users(self, tables: set[str], only: Sequence[int] | None) -> list[Row]:
        """Members with any gold row: first/last recovery day and recovery-day count.

        Args:
            only: restrict to these user ids (a member's key); ``None`` = everyone (admin).
        """
        parts = [
            f"select user_key, date_key, 1 as is_recovery from {self._t('fact_daily_recovery')}"
            if self.has(tables, "fact_daily_recovery")
            else None,
            f"select user_key, date_key, 0 as is_recovery from {self._t('fact_strain')}"
            if self.has(tables, "fact_strain")
            else None,
        ]
        union = " union all ".join(p for p in parts if p)
        if not union:
            return []
        params: list[Any] = []
        where = ""
        if only is not None:
            if not only:
                return []
            where = "where user_key in (" + ", ".join("?" for _ in only) + ")"
            params.extend(int(u) for u in only)
        return self._query(
            "select user_key, "
            "min(case when is_recovery = 1 then date_key end) as first_date_key, "
            "max(case when is_recovery = 1 then date_key end) as last_date_key, "
            "sum(is_recovery) as recovery_days "
            f"from ({union}) as facts {where} group by user_key order by user_key",
            params,
        )

    # --- overview ------------------------------------------------------------------------
    def latest_recovery(self, tables: set[str], user_id: int) -> Row | None:
        """Newest scored recovery of the user."""
        if not self.has(tables, "fact_daily_recovery"):
            return None
        rows = self._query(
            "select date_key, recovery_score, recovery_band, hrv_rmssd_ms, "
            "resting_heart_rate_bpm, spo2_percentage, skin_temp_celsius, user_calibrating "
            f"from {self._t('fact_daily_recovery')} where user_key = ? "
            "order by date_key desc, updated_at desc limit 1",
            [user_id],
        )
        return rows[0] if rows else None

    def latest_strain(self, tables: set[str], user_id: int) -> Row | None:
        """Newest day with a day strain (an open or unscored primary cycle has none yet)."""
        if not self.has(tables, "fact_strain"):
            return None
        rows = self._query(
            "select date_key, day_strain_score, calories_burned, avg_heart_rate_bpm, "
            f"max_heart_rate_bpm from {self._t('fact_strain')} "
            "where user_key = ? and day_strain_score is not null "
            "order by date_key desc limit 1",
            [user_id],
        )
        return rows[0] if rows else None

    def latest_sleep(self, tables: set[str], user_id: int) -> Row | None:
        """Newest main (non-nap) sleep."""
        if not self.has(tables, "fact_sleep"):
            return None
        rows = self._query(
            "select date_key, total_sleep_minutes, in_bed_minutes, sleep_performance_pct, "
            f"sleep_efficiency_pct, respiratory_rate from {self._t('fact_sleep')} "
            "where user_key = ? and not is_nap and score_state = 'SCORED' "
            "order by date_key desc, sleep_end_timestamp desc limit 1",
            [user_id],
        )
        return rows[0] if rows else None

    def recoveries(self, tables: set[str], user_id: int, start_key: int, end_key: int) -> list[Row]:
        """Recoveries of the user between two date keys (inclusive)."""
        if not self.has(tables, "fact_daily_recovery"):
            return []
        return self._query(
            "select date_key, recovery_score, hrv_rmssd_ms, resting_heart_rate_bpm "
            f"from {self._t('fact_daily_recovery')} "
            "where user_key = ? and date_key between ? and ? order by date_key",
            [user_id, start_key, end_key],
        )

    def predictions(self, tables: set[str], user_id: int, start_key: int) -> list[Row]:
        """Every model's predictions for target days from ``start_key`` on."""
        if not self.has(tables, "fact_predictions"):
            return []
        return self._query(
            "select date_key, model_name, model_version, predicted_recovery, lower_80, "
            "upper_80, is_anomaly, anomaly_score, anomaly_reasons "
            f"from {self._t('fact_predictions')} "
            "where user_key = ? and date_key >= ? order by date_key, model_name",
            [user_id, start_key],
        )

    # --- sleep ---------------------------------------------------------------------------
    def latest_date_key(self, tables: set[str], table: str, user_id: int) -> int | None:
        """Newest ``date_key`` of one fact for the user (the end of its page window)."""
        if not self.has(tables, table):
            return None
        rows = self._query(
            f"select max(date_key) as date_key from {self._t(table)} where user_key = ?",
            [user_id],
        )
        value = rows[0]["date_key"] if rows else None
        return None if value is None else int(value)

    def sleeps(self, tables: set[str], user_id: int, start_key: int, end_key: int) -> list[Row]:
        """Sleeps (naps and unscored ones included) between two date keys."""
        if not self.has(tables, "fact_sleep"):
            return []
        return self._query(
            f"select {_SLEEP_COLUMNS} from {self._t('fact_sleep')} "
            "where user_key = ? and date_key between ? and ? "
            "order by date_key, sleep_start_timestamp",
            [user_id, start_key, end_key],
        )

    def sleep_stages(self, tables: set[str]) -> list[Row]:
        """``dim_sleep_stage`` in display order."""
        if not self.has(tables, "dim_sleep_stage"):
            return []
        return self._query(
            "select sleep_stage_key, sleep_stage_name, is_asleep, sort_order "
            f"from {self._t('dim_sleep_stage')} order by sort_order"
        )

    # --- workouts ------------------------------------------------------------------------
    def workouts(self, tables: set[str], user_id: int, start_key: int, end_key: int) -> list[Row]:
        """Workouts (unscored ones included) between two date keys."""
        if not self.has(tables, "fact_workouts"):
            return []
        return self._query(
            f"select {_WORKOUT_COLUMNS} from {self._t('fact_workouts')} "
            "where user_key = ? and date_key between ? and ? order by workout_start_timestamp",
            [user_id, start_key, end_key],
        )

    def activity_types(self, tables: set[str], keys: Sequence[int]) -> dict[int, Row]:
        """``dim_activity_type`` rows for the given keys."""
        if not keys or not self.has(tables, "dim_activity_type"):
            return {}
        rows = self._query(
            "select activity_type_key, activity_name, sport_slug, activity_category "
            f"from {self._t('dim_activity_type')} where activity_type_key in ("
            + ", ".join("?" for _ in keys)
            + ")",
            [int(k) for k in keys],
        )
        return {int(r["activity_type_key"]): r for r in rows}

    # --- aggregates ----------------------------------------------------------------------
    def aggregates(self, tables: set[str], user_id: int, period: str, limit: int) -> list[Row]:
        """Newest ``limit`` rows of ``agg_weekly_user`` or ``agg_monthly_user``."""
        table, start = (
            ("agg_weekly_user", "week_start_date")
            if period == "weekly"
            else ("agg_monthly_user", "month_start_date")
        )
        if not self.has(tables, table):
            return []
        return self._query(
            f"select {start}_key, {start}, {_AGG_COLUMNS} from {self._t(table)} "
            # LIMIT takes a literal: Snowflake does not bind it everywhere; it is an int here.
            f"where user_key = ? order by {start}_key desc limit {int(limit)}",
            [user_id],
        )

    # --- data quality --------------------------------------------------------------------
    def data_quality(self, tables: set[str]) -> list[Row]:
        """Every ``mart_data_quality`` row (small: rule × resource × day)."""
        if not self.has(tables, "mart_data_quality"):
            return []
        return self._query(
            "select date_key, resource, rule, loaded_rows, tombstoned_rows, quarantined_rows, "
            f"last_loaded_at, freshness_hours from {self._t('mart_data_quality')}"
        )

    def quarantine_files(self, tables: set[str], limit: int) -> tuple[int, list[Row]]:
        """Count and newest ``limit`` rows of ``bronze.quarantine_files``."""
        if not self.has(tables, "quarantine_files", schema=self.bronze):
            return 0, []
        table = f"{self.bronze}.quarantine_files"
        count = self._query(f"select count(*) as n from {table}")
        rows = self._query(
            f"select blob_path, reason, quarantined_at from {table} "
            f"order by quarantined_at desc limit {int(limit)}",
        )
        return int(count[0]["n"]) if count else 0, rows

    def quarantine_records(self, tables: set[str]) -> list[Row]:
        """Bad bronze lines per resource and reason (``bronze.quarantine_records``)."""
        if not self.has(tables, "quarantine_records", schema=self.bronze):
            return []
        return self._query(
            "select resource, reason, count(*) as line_count "
            f"from {self.bronze}.quarantine_records group by resource, reason "
            "order by line_count desc, resource, reason"
        )

    def gold_freshness(self, tables: set[str]) -> list[Row]:
        """Row count and newest ``date_key`` of each gold fact that exists."""
        out: list[Row] = []
        for table in GOLD_FACTS:
            if not self.has(tables, table):
                continue
            rows = self._query(
                f"select count(*) as row_count, max(date_key) as latest_date_key "
                f"from {self._t(table)}"
            )
            out.append({"table": table, **(rows[0] if rows else {})})
        return out
