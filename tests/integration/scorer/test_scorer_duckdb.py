"""Scorer against a real DuckDB warehouse: idempotent writes, deletes and rescores propagate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from ml.data import read_gold
from ml.features import build_daily, build_features
from ml.predict import BASELINE_NAME, save_model
from ml.train import MODEL_NAME, train
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
        total_sleep_minutes double, sleep_performance_pct double,
        sleep_efficiency_pct double, sleep_debt_minutes double, respiratory_rate double)""",
    "create table gold.fact_strain (user_key bigint, date_key integer, day_strain_score double)",
    """create table gold.fact_workouts (user_key bigint, date_key integer,
        duration_minutes double, strain_score double)""",
]


def _insert(warehouse: Warehouse, table: str, rows: list[list[Any]]) -> None:
    """One multi-row insert per table: each warehouse call is a connection under the lock."""
    width = len(rows[0])
    values = ", ".join("(" + ", ".join(["?"] * width) + ")" for _ in rows)
    warehouse.execute(f"insert into gold.{table} values {values}", [v for r in rows for v in r])


def _fill(warehouse: Warehouse, user: int, days: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    start = date(2025, 1, 1)
    recovery, sleep, strain = [], [], []
    for offset in range(days):
        key = int((start + timedelta(days=offset)).strftime("%Y%m%d"))
        score = float(np.clip(rng.normal(60, 20), 1, 99))
        recovery.append(
            [user, key, 1000 + offset, score, 40 + score / 2, 60 - score / 20, 96.0, 33.8]
        )
        sleep.append([user, key, False, float(rng.normal(420, 60)), 80.0, 90.0, 20.0, 15.0])
        strain.append([user, key, float(rng.uniform(4, 18))])
    _insert(warehouse, "fact_daily_recovery", recovery)
    _insert(warehouse, "fact_sleep", sleep)
    _insert(warehouse, "fact_strain", strain)


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


async def test_start_rescores_rows_of_another_model_version(settings, warehouse) -> None:
    for user, seed in ((1, 1), (2, 2)):
        _fill(warehouse, user, 60, seed)
    gold = read_gold(warehouse)
    features = build_features(build_daily(gold.recovery, gold.sleep, gold.strain, gold.workouts))
    first = train(features)
    first.version = "20250101T000000Z"
    service = bootstrap(settings, warehouse=warehouse)
    try:
        await save_model(service.blobs, first)
        await service.handler.start()  # nothing scored yet: no stale rows, no rescore
        await service.handler.handle([_updated(1), _updated(2)])
        versions = warehouse.query(
            "select distinct model_version from gold.fact_predictions where model_name = ?",
            [MODEL_NAME],
        )
        assert [r["model_version"] for r in versions] == [first.version]

        # A newer version appears while the scorer is down; the next start rescores everyone.
        second = train(features, alpha=1.0)
        second.version = "20250102T000000Z"
        await save_model(service.blobs, second)
        restarted = bootstrap(settings, warehouse=warehouse, blobs=service.blobs)
        await restarted.handler.start()
        rows = warehouse.query(
            "select user_key, model_version, count(*) as n from gold.fact_predictions "
            "where model_name = ? group by all order by user_key",
            [MODEL_NAME],
        )
        assert [(r["user_key"], r["model_version"], r["n"]) for r in rows] == [
            (1, second.version, 60),
            (2, second.version, 60),
        ]
        await restarted.bus.close()
    finally:
        await service.bus.close()
