"""Scorer logic with fakes: which users and days are rescored, which rows and messages result."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from scorer_fakes import FakeWarehouse, gold_history

from ml.data import GoldFrames
from ml.features import build_daily, build_features
from ml.predict import BASELINE_NAME, save_model
from ml.train import MODEL_NAME, train
from scorer.bootstrap import bootstrap
from scorer.domain.scoring import PREDICTION_COLUMNS, score
from scorer.handlers import affected_users
from scorer.settings import ScorerSettings
from shared.contracts import GoldUpdated, PredictionsWritten, Topic, decode
from shared.settings import PlatformSettings
from tests.fakes import MemoryBlobStore, RecordingBus


def _updated(users: tuple[int, ...], dates: tuple[date, ...] = ()) -> GoldUpdated:
    return GoldUpdated(run_id="r", user_ids=users, dates=dates, finished_at=datetime.now(UTC))


def _frames(gold) -> GoldFrames:
    return GoldFrames(
        recovery=pd.DataFrame(gold["fact_daily_recovery"]),
        sleep=pd.DataFrame(gold["fact_sleep"]),
        strain=pd.DataFrame(gold["fact_strain"]),
        workouts=pd.DataFrame(columns=["user_key", "date_key", "duration_minutes", "strain_score"]),
    )


def test_affected_users_takes_earliest_day_and_none_wins() -> None:
    since = affected_users(
        [
            _updated((1, 2), (date(2025, 3, 5), date(2025, 3, 9))),
            _updated((2,), (date(2025, 3, 2),)),
            _updated((3,), ()),
            _updated((3,), (date(2025, 3, 1),)),
        ]
    )
    assert since == {1: date(2025, 3, 5), 2: date(2025, 3, 2), 3: None}


def test_score_predicts_every_gold_day_for_the_next_day(gold) -> None:
    scored_at = datetime(2025, 6, 1, tzinfo=UTC)
    rows = score(_frames(gold), model=None, run_id="run1", scored_at=scored_at)
    assert list(rows.columns) == list(PREDICTION_COLUMNS)
    assert set(rows["model_name"]) == {BASELINE_NAME}
    gold_days = sorted({r["date_key"] for r in gold["fact_daily_recovery"]})
    # Target day = gold day + 1; the first target is 2025-03-02, the last the day after the end.
    assert len(rows) == len(gold_days)
    assert rows["date_key"].min() == 20250302
    assert rows["date_key"].max() == 20250510
    assert rows["predicted_recovery"].between(0, 100).all()
    later = rows.iloc[20:]
    assert (later["lower_80"] <= later["predicted_recovery"]).all()
    assert (later["upper_80"] >= later["predicted_recovery"]).all()
    # The baseline is what it says: the mean of the last 7 recoveries.
    recovery = pd.DataFrame(gold["fact_daily_recovery"]).sort_values("date_key")
    expected = recovery["recovery_score"].iloc[3:10].mean()
    assert rows.loc[rows["date_key"] == 20250311, "predicted_recovery"].iloc[0] == pytest.approx(
        expected
    )


def test_score_since_limits_rows_to_changed_window(gold) -> None:
    rows = score(
        _frames(gold), model=None, run_id="r", scored_at=datetime.now(UTC), since=date(2025, 5, 1)
    )
    assert rows["date_key"].min() == 20250502
    assert len(rows) == 9


async def test_handler_writes_baseline_and_model_rows_and_announces_them(gold) -> None:
    warehouse = FakeWarehouse(gold_history(user_ids=(101, 202)))
    bus = RecordingBus()
    blobs = MemoryBlobStore()
    frames = _frames(gold_history(user_ids=(7, 8, 9), days=120, seed=11))
    features = build_features(
        build_daily(frames.recovery, frames.sleep, frames.strain, frames.workouts)
    )
    model = train(features)
    await save_model(blobs, model)
    service = bootstrap(
        PlatformSettings(),
        scorer_settings=ScorerSettings(),
        bus=bus,
        warehouse=warehouse,
        blobs=blobs,
    )
    assert await service.handler.refresh_model(force=True)  # as the entrypoint does at start
    published = await service.handler.handle([_updated((202,), (date(2025, 4, 1),))])

    assert [(m.user_id, m.model_name) for m in published] == [
        (202, BASELINE_NAME),
        (202, MODEL_NAME),
    ]
    assert published[1].model_version == model.version
    assert published[0].dates[0] == date(2025, 4, 2)
    statements = [sql for sql, _ in warehouse.executed]
    assert statements[0].startswith("create schema if not exists gold")
    assert any(s.startswith("create table if not exists gold.fact_predictions") for s in statements)
    merges = [
        (sql, p)
        for sql, p in warehouse.executed
        if sql.startswith("merge into gold.fact_predictions")
    ]
    written = sum(len(p) for _, p in merges) // len(PREDICTION_COLUMNS)
    assert written == published[0].rows + published[1].rows
    deletes = [
        p for sql, p in warehouse.executed if sql.startswith("delete from gold.fact_predictions")
    ]
    assert [(p[0], p[1], p[2]) for p in deletes] == [
        (202, BASELINE_NAME, 20250402),
        (202, MODEL_NAME, 20250402),
    ]
    assert all(p[3] == published[0].run_id for p in deletes)

    topics = [topic for topic, _ in bus.published]
    assert topics == [Topic.PREDICTIONS_WRITTEN.value] * 2
    body = bus.published[0][1]
    decoded = decode(Topic.PREDICTIONS_WRITTEN, body.body, dict(body.application_properties))
    assert isinstance(decoded, PredictionsWritten) and decoded.user_id == 202


async def test_handler_without_model_writes_baseline_only_and_purged_user_clears(gold) -> None:
    warehouse = FakeWarehouse(
        {"fact_daily_recovery": [], "fact_sleep": [], "fact_strain": [], "fact_workouts": []}
    )
    bus = RecordingBus()
    service = bootstrap(PlatformSettings(), bus=bus, warehouse=warehouse, blobs=MemoryBlobStore())
    published = await service.handler.handle([_updated((5,))])
    assert [(m.model_name, m.rows, m.dates) for m in published] == [(BASELINE_NAME, 0, ())]
    deletes = [p for sql, p in warehouse.executed if sql.startswith("delete from")]
    # A user without gold rows loses every prediction (since=None → from the first day).
    assert deletes == [[5, BASELINE_NAME, 0, published[0].run_id]]


async def test_corrupt_artefact_falls_back_to_baseline(gold) -> None:
    blobs = MemoryBlobStore()
    blobs.blobs[f"models/{MODEL_NAME}/20250101T000000Z/model.joblib"] = b"not a pickle"
    blobs.blobs[f"models/{MODEL_NAME}/20250101T000000Z/metrics.json"] = json.dumps({}).encode()
    service = bootstrap(
        PlatformSettings(), bus=RecordingBus(), warehouse=FakeWarehouse(gold_history()), blobs=blobs
    )
    published = await service.handler.handle([_updated((101,))])
    assert [m.model_name for m in published] == [BASELINE_NAME]


async def test_new_model_version_rescores_every_user_once() -> None:
    warehouse = FakeWarehouse(gold_history(user_ids=(101, 202)))
    blobs = MemoryBlobStore()
    service = bootstrap(PlatformSettings(), bus=RecordingBus(), warehouse=warehouse, blobs=blobs)
    await service.handler.refresh_model_now()  # nothing trained yet: baseline only, no rescore
    assert warehouse.executed == []

    frames = _frames(gold_history(user_ids=(7, 8), days=120, seed=5))
    features = build_features(
        build_daily(frames.recovery, frames.sleep, frames.strain, frames.workouts)
    )
    await save_model(blobs, train(features))
    await service.handler.refresh_model_now()
    deletes = [p for sql, p in warehouse.executed if sql.startswith("delete from")]
    # Both users, both models, whole history (date floor 0).
    assert sorted((p[0], p[1], p[2]) for p in deletes) == [
        (101, BASELINE_NAME, 0),
        (101, MODEL_NAME, 0),
        (202, BASELINE_NAME, 0),
        (202, MODEL_NAME, 0),
    ]
    warehouse.executed.clear()
    await service.handler.refresh_model_now()  # same version: nothing to do
    assert warehouse.executed == []
