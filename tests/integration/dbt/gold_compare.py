"""Compare gold rows with the generator's ground truth, column by column."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from whoop_simulator.generator import SimUser
from whoop_simulator.ground_truth import expected_gold

PRIMARY_KEYS = {
    "fact_daily_recovery": "recovery_id",
    "fact_sleep": "sleep_id",
    "fact_strain": "strain_id",
    "fact_workouts": "workout_id",
}
# Only the loader knows when a row was loaded: the truth has no load_timestamp, and two
# warehouses loaded from the same files hold different ones.
LOAD_COLUMNS = frozenset({"load_timestamp"})


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    if isinstance(a, Sequence) and not isinstance(a, str):
        return isinstance(b, Sequence) and len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def expected_rows(
    users: Iterable[SimUser], table: str, corrupt_rate: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for user in users:
        rows += expected_gold(user, corrupt_rate=corrupt_rate)[table]
    return rows


def diff_rows(
    table: str,
    actual: Sequence[Mapping[str, Any]],
    expected: Sequence[Mapping[str, Any]],
    ignore: frozenset[str] = frozenset(),
) -> list[str]:
    """Human-readable differences (empty when gold equals the truth), ``ignore``d columns aside."""
    pk = PRIMARY_KEYS[table]
    got = {str(r[pk]): r for r in actual}
    want = {str(r[pk]): r for r in expected}
    problems = [f"{table}: missing {k}" for k in sorted(want.keys() - got.keys())[:10]]
    problems += [f"{table}: unexpected {k}" for k in sorted(got.keys() - want.keys())[:10]]
    for key in sorted(want.keys() & got.keys()):
        w = {c: v for c, v in want[key].items() if c not in ignore}
        g = {c: v for c, v in got[key].items() if c not in ignore}
        if set(w) != set(g):
            problems.append(f"{table}: columns differ {sorted(set(w) ^ set(g))}")
            break
        for col in w:
            if not _same(g[col], w[col]):
                problems.append(f"{table}[{key}].{col}: gold={g[col]!r} truth={w[col]!r}")
        if len(problems) > 30:
            break
    return problems


# The specified star schema (issue 13), column for column: gold must carry each with this name.
SPEC_COLUMNS: dict[str, tuple[str, ...]] = {
    "fact_daily_recovery": (
        "recovery_id", "date_key", "recovery_score", "hrv_rmssd_ms", "resting_heart_rate_bpm",
        "spo2_percentage", "skin_temp_celsius", "cycle_id", "load_timestamp",
    ),
    "fact_sleep": (
        "sleep_id", "date_key", "sleep_start_timestamp", "sleep_end_timestamp",
        "total_sleep_minutes", "light_sleep_minutes", "deep_sleep_minutes", "rem_sleep_minutes",
        "awake_minutes", "sleep_efficiency_pct", "sleep_performance_pct", "respiratory_rate",
        "sleep_needed_minutes", "sleep_debt_minutes", "load_timestamp",
    ),
    "fact_strain": (
        "strain_id", "date_key", "day_strain_score", "calories_burned", "avg_heart_rate_bpm",
        "max_heart_rate_bpm", "load_timestamp",
    ),
    "fact_workouts": (
        "workout_id", "date_key", "activity_type_key", "workout_start_timestamp",
        "workout_end_timestamp", "duration_minutes", "strain_score", "avg_heart_rate_bpm",
        "max_heart_rate_bpm", "calories_burned", "distance_meters", "altitude_gain_meters",
        "zone_duration_minutes", "load_timestamp",
    ),
    "dim_date": (
        "date_key", "full_date", "year", "quarter", "month", "day", "day_of_week", "day_name",
        "week_of_year", "is_weekend", "is_holiday",
    ),
    "dim_activity_type": (
        "activity_type_key", "activity_type_id", "activity_name", "activity_category",
    ),
    "dim_sleep_stage": ("sleep_stage_key", "sleep_stage_name", "sleep_stage_description"),
}  # fmt: skip
