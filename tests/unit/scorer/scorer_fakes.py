"""Fakes subclassing the ports for scorer unit tests (no I/O) and a small gold history.

A plain module (not conftest) so test files can import the fakes by name. The bus and blob
fakes shared with other areas live in ``tests.fakes``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from shared.ports import (
    BronzeFile,
    LoadResult,
    Warehouse,
)


class FakeWarehouse(Warehouse):
    """Serves gold rows per table and records every write statement."""

    def __init__(self, gold: dict[str, list[dict[str, Any]]]) -> None:
        self.gold = gold
        self.executed: list[tuple[str, list[Any]]] = []

    def ensure_schema(self) -> None:
        return None

    def load_bronze(self, batch_id: str, files: Sequence[BronzeFile]) -> LoadResult:
        raise AssertionError("the scorer never loads bronze")

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        if "information_schema.tables" in sql:
            return [{"n": 1 if self.gold.get("fact_daily_recovery") else 0}]
        if "distinct user_key" in sql:
            users = sorted({r["user_key"] for r in self.gold["fact_daily_recovery"]})
            return [{"user_key": u} for u in users]
        table = re.search(r"from gold\.(\w+)", sql)
        assert table is not None, sql
        rows = self.gold.get(table.group(1), [])
        if "where user_key = ?" in sql:
            rows = [r for r in rows if r["user_key"] == list(params)[0]]
        return [dict(r) for r in rows]

    def execute(self, sql: str, params: Any = None) -> None:
        self.executed.append((" ".join(sql.split()), list(params or [])))


def gold_history(
    user_ids: Sequence[int] = (101,), days: int = 70, seed: int = 3
) -> dict[str, list[dict[str, Any]]]:
    """Gold rows shaped like the marts, one recovery/sleep/strain per day."""
    rng = np.random.default_rng(seed)
    start = datetime(2025, 3, 1)
    gold: dict[str, list[dict[str, Any]]] = {
        "fact_daily_recovery": [],
        "fact_sleep": [],
        "fact_strain": [],
        "fact_workouts": [],
    }
    for user in user_ids:
        for offset in range(days):
            day = start + timedelta(days=offset)
            key = int(day.strftime("%Y%m%d"))
            score = float(np.clip(rng.normal(60, 20), 1, 99))
            gold["fact_daily_recovery"].append(
                {
                    "user_key": user,
                    "date_key": key,
                    "recovery_score": score,
                    "hrv_rmssd_ms": 40 + score / 2 + rng.normal(0, 4),
                    "resting_heart_rate_bpm": 62 - score / 20 + rng.normal(0, 1.5),
                    "spo2_percentage": 96.0,
                    "skin_temp_celsius": 33.8 + rng.normal(0, 0.15),
                }
            )
            gold["fact_sleep"].append(
                {
                    "user_key": user,
                    "date_key": key,
                    "is_nap": False,
                    "total_sleep_minutes": rng.normal(420, 60),
                    "sleep_performance_pct": 80.0,
                    "sleep_efficiency_pct": 90.0,
                    "sleep_debt_minutes": 20.0,
                    "respiratory_rate": 15.0 + rng.normal(0, 0.3),
                }
            )
            gold["fact_strain"].append(
                {
                    "user_key": user,
                    "date_key": key,
                    "day_strain_score": float(np.clip(rng.normal(10, 3), 0, 21)),
                }
            )
    return gold
