"""Scorer against a real DuckDB warehouse: idempotent writes, deletes and rescores propagate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from ml.predict import BASELINE_NAME
from scorer.bootstrap import bootstrap
from shared.composition import build_warehouse
from shared.contracts import GoldUpdated
from shared.ports import Warehouse
from shared.settings import PlatformSettings

GOLD_DDL = [
    "create schema if not exists gold",
    """create table gold.fact_daily_recovery (user_key bigint, date_key integer,
        cycle_id bigint, recovery_score double, hrv_rmssd_ms double,
        resting_heart_rate_bpm double, spo2_percentage double, skin_temp_celsius double)""",
    """create table gold.fact_sleep (user_key bigint, date_key integer, is_nap boolean,
        asleep_minutes double, sleep_performance_percentage double,
        sleep_efficiency_percentage double, sleep_debt_minutes double, respiratory_rate double)""",
    "create table gold.fact_strain (user_key bigint, date_key integer, day_strain double)",
    """create table gold.fact_workouts (user_key bigint, date_key integer,
        duration_minutes double, strain double)""",
]


def _fill(warehouse: Warehouse, user: int, days: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    start = date(2025, 1, 1)
    for offset in range(days):
        key = int((start + timedelta(days=offset)).strftime("%Y%m%d"))
        score = float(np.clip(rng.normal(60, 20), 1, 99))
        warehouse.execute(
            "insert into gold.fact_daily_recovery values (?, ?, ?, ?, ?, ?, ?, ?)",
            [user, key, 1000 + offset, score, 40 + score / 2, 60 - score / 20, 96.0, 33.8],
        )
        warehouse.execute(
            "insert into gold.fact_sleep values (?, ?, false, ?, 80, 90, 20, 15)",
            [user, key, float(rng.normal(420, 60))],
        )
        warehouse.execute(
            "insert into gold.fact_strain values (?, ?, ?)", [user, key, float(rng.uniform(4, 18))]
        )


@pytest.fixture
def settings(tmp_path) -> PlatformSettings:
    return PlatformSettings(data_dir=tmp_path)


@pytest.fixture
def warehouse(settings):
    wh = build_warehouse(settings)
    for ddl in GOLD_DDL:
        wh.execute(ddl)
    yield wh
    wh.close()


def _updated(user: int, dates: tuple[date, ...] = ()) -> GoldUpdated:
    return GoldUpdated(run_id="t", user_ids=(user,), dates=dates, finished_at=datetime.now(UTC))


def _predictions(warehouse: Warehouse, user: int) -> list[dict[str, Any]]:
    return warehouse.query(
        "select * from gold.fact_predictions where user_key = ? order by date_key", [user]
    )


async def test_scorer_writes_one_prediction_per_gold_day_idempotently(settings, warehouse) -> None:
    _fill(warehouse, 7, 40)
    service = bootstrap(settings, warehouse=warehouse)
    try:
        await service.handler.handle([_updated(7)])
        first = _predictions(warehouse, 7)
        assert len(first) == 40
        assert {r["model_name"] for r in first} == {BASELINE_NAME}
        assert first[0]["date_key"] == 20250102 and first[-1]["date_key"] == 20250210
        assert all(r["lower_80"] <= r["predicted_recovery"] <= r["upper_80"] for r in first[20:])

        # Redelivery: same rows, nothing duplicated, run id replaced.
        await service.handler.handle([_updated(7)])
        second = _predictions(warehouse, 7)
        assert len(second) == 40
        assert [r["predicted_recovery"] for r in second] == [r["predicted_recovery"] for r in first]
        assert {r["run_id"] for r in second} != {r["run_id"] for r in first}
    finally:
        await service.bus.close()


async def test_deleted_and_rescored_gold_days_propagate(settings, warehouse) -> None:
    _fill(warehouse, 8, 40)
    service = bootstrap(settings, warehouse=warehouse)
    try:
        await service.handler.handle([_updated(8)])
        before = {r["date_key"]: r for r in _predictions(warehouse, 8)}

        # The last three days vanish from gold (deleted upstream); one earlier day is rescored.
        warehouse.execute(
            "delete from gold.fact_daily_recovery where user_key = 8 and date_key >= 20250207"
        )
        for table in ("fact_sleep", "fact_strain"):
            warehouse.execute(
                f"delete from gold.{table} where user_key = 8 and date_key >= 20250207"
            )
        warehouse.execute(
            "update gold.fact_daily_recovery set recovery_score = 99 "
            "where user_key = 8 and date_key = 20250201"
        )
        await service.handler.handle([_updated(8, (date(2025, 2, 1), date(2025, 2, 7)))])
        after = {r["date_key"]: r for r in _predictions(warehouse, 8)}

        assert max(after) == 20250207  # predictions made from the deleted days are gone
        assert len(after) == 37
        assert after[20250202]["predicted_recovery"] > before[20250202]["predicted_recovery"]
        # Days before the change keep their rows from the first run.
        assert after[20250115]["run_id"] == before[20250115]["run_id"]
    finally:
        await service.bus.close()
