"""Read the gold facts the features need through the ``Warehouse`` port.

One definition of "what the model reads" shared by ``wdp ml train``/``evaluate`` (all users)
and the scorer (one user at a time).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from shared.ports import Warehouse

GOLD_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "recovery": (
        "gold.fact_daily_recovery",
        (
            "user_key",
            "date_key",
            "recovery_score",
            "hrv_rmssd_ms",
            "resting_heart_rate_bpm",
            "spo2_percentage",
            "skin_temp_celsius",
        ),
    ),
    "sleep": (
        "gold.fact_sleep",
        (
            "user_key",
            "date_key",
            "is_nap",
            "total_sleep_minutes",
            "sleep_performance_pct",
            "sleep_efficiency_pct",
            "sleep_debt_minutes",
            "respiratory_rate",
        ),
    ),
    "strain": ("gold.fact_strain", ("user_key", "date_key", "day_strain_score")),
    "workouts": (
        "gold.fact_workouts",
        ("user_key", "date_key", "duration_minutes", "strain_score"),
    ),
}


@dataclass(frozen=True)
class GoldFrames:
    """The four gold facts of one or more users, as frames with the gold column names."""

    recovery: pd.DataFrame
    sleep: pd.DataFrame
    strain: pd.DataFrame
    workouts: pd.DataFrame

    def is_empty(self) -> bool:
        """True when there are no gold rows at all (e.g. after a purge)."""
        return not (len(self.recovery) or len(self.sleep) or len(self.strain) or len(self.workouts))


def read_gold(warehouse: Warehouse, user_id: int | None = None) -> GoldFrames:
    """All gold rows the features use, for one user or (``None``) everyone.

    Full history on purpose: rolling 28-day features and the baseline's residual window need
    the past even when only yesterday changed.
    """
    frames: dict[str, pd.DataFrame] = {}
    for name, (table, columns) in GOLD_COLUMNS.items():
        sql = f"select {', '.join(columns)} from {table}"
        params: list[int] = []
        if user_id is not None:
            sql += " where user_key = ?"
            params.append(user_id)
        rows = warehouse.query(sql, params or None)
        frame = pd.DataFrame(rows, columns=list(columns))
        frames[name] = frame
    return GoldFrames(**frames)
