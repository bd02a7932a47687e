"""Training, rolling-origin evaluation, intervals and the artefact registry."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.evaluate import NAIVE_BASELINES, evaluate, rolling_origins
from ml.exceptions import NotEnoughData
from ml.features import TARGET, build_daily, build_features
from ml.predict import (
    artefact_path,
    latest_version,
    load_latest_model,
    predict_baseline,
    predict_model,
    save_model,
)
from ml.train import MODEL_NAME, fit_pipeline, train


@pytest.fixture
def features(gold) -> pd.DataFrame:
    return build_features(build_daily(*gold))


def test_rolling_origins_never_train_on_the_test_window(features) -> None:
    origins = rolling_origins(features, min_train_days=56, refit_every_days=7)
    assert len(origins) >= 10
    first_label = features.loc[features[TARGET].notna(), "target_day"].min()
    assert origins[0].start == first_label + pd.Timedelta(days=56)
    for previous, current in zip(origins, origins[1:], strict=False):
        assert current.start == previous.end
    seen: list[fit_pipeline] = []

    def spying_fit(past: pd.DataFrame):
        seen.append(past)
        return fit_pipeline(past)

    report = evaluate(features, fit=spying_fit)
    for origin, past in zip(origins, seen, strict=False):
        assert past["target_day"].max() < origin.start
    assert report.origins == len(seen)


def test_model_beats_naive_baselines_with_calibrated_intervals(features) -> None:
    report = evaluate(features)
    model = report.score(MODEL_NAME)
    best = report.best_naive()
    assert {s.name for s in report.scores} == {MODEL_NAME, *NAIVE_BASELINES}
    assert len({s.n for s in report.scores}) == 1, "every predictor scored on the same rows"
    assert model.mae < best.mae
    assert model.coverage_80 is not None and 0.70 <= model.coverage_80 <= 0.90
    mean_7d = report.score("mean_7d")
    assert mean_7d.coverage_80 is not None and 0.65 <= mean_7d.coverage_80 <= 0.95


def test_train_refuses_tiny_histories(features) -> None:
    with pytest.raises(NotEnoughData):
        train(features.head(10))


def test_baseline_interval_uses_only_past_residuals(features) -> None:
    base = predict_baseline(features)
    assert base["predicted"].equals(features["recovery_mean_7"].clip(0, 100))
    late = features["day"] > pd.Timestamp("2025-03-01")
    assert (base.loc[late, "lower"] <= base.loc[late, "predicted"]).all()
    assert (base.loc[late, "upper"] >= base.loc[late, "predicted"]).all()
    # Poisoning labels after a day must not move that day's interval.
    poisoned = features.copy()
    poisoned.loc[poisoned["day"] >= pd.Timestamp("2025-03-01"), TARGET] = 100.0
    moved = predict_baseline(poisoned)
    early = features["day"] < pd.Timestamp("2025-03-01")
    pd.testing.assert_frame_equal(base.loc[early], moved.loc[early])


async def test_artefact_round_trip_and_latest_version(features, blobs) -> None:
    assert await load_latest_model(blobs) is None
    first = train(features)
    first.version = "20250101T000000Z"
    second = train(features, alpha=1.0)
    second.version = "20250102T000000Z"
    await save_model(blobs, second)
    await save_model(blobs, first)
    assert artefact_path(MODEL_NAME, "20250102T000000Z") in blobs.blobs
    assert await latest_version(blobs) == "20250102T000000Z"
    loaded = await load_latest_model(blobs)
    assert loaded is not None and loaded.version == "20250102T000000Z"
    assert loaded.metrics["training_rows"] == second.metrics["training_rows"]
    expected = predict_model(second.pipeline, features)
    got = predict_model(loaded.pipeline, features)
    pd.testing.assert_frame_equal(expected, got)
    # A version whose metrics never landed (crash mid-save) is not "latest".
    await blobs.put(artefact_path(MODEL_NAME, "20990101T000000Z"), b"partial")
    assert await latest_version(blobs) == "20250102T000000Z"
