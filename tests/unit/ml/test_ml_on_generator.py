"""The acceptance bar on the simulator's generator: beat the best naive baseline, calibrated.

Uses the generator's ground-truth gold (what the warehouse must contain), so this checks the
model against data with WHOOP-like noise rather than the hand-made fixture.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ml.evaluate import evaluate
from ml.features import anomaly_scores, build_daily, build_features
from ml.train import MODEL_NAME

generator = pytest.importorskip("whoop_simulator.generator")
ground_truth = pytest.importorskip("whoop_simulator.ground_truth")

TABLES = ("fact_daily_recovery", "fact_sleep", "fact_strain", "fact_workouts")


@pytest.fixture(scope="module")
def generated_features() -> pd.DataFrame:
    rows: dict[str, list[dict[str, object]]] = {t: [] for t in TABLES}
    for user in generator.iter_users(42, 4, date(2024, 1, 1), 300):
        gold = ground_truth.expected_gold(user)
        for table in TABLES:
            rows[table] += gold[table]
    frames = [pd.DataFrame(rows[t]) for t in TABLES]
    return build_features(build_daily(*frames))


def test_model_beats_best_naive_baseline_on_generator(generated_features) -> None:
    report = evaluate(generated_features)
    model = report.score(MODEL_NAME)
    best = report.best_naive()
    assert report.origins >= 30
    assert model.n >= 800
    assert model.mae < best.mae, f"{model.mae:.2f} vs {best.name} {best.mae:.2f}"


def test_intervals_cover_about_80_percent_on_generator(generated_features) -> None:
    report = evaluate(generated_features)
    model = report.score(MODEL_NAME)
    assert model.coverage_80 is not None
    assert 0.70 <= model.coverage_80 <= 0.90
    baseline = report.score("mean_7d")
    assert baseline.coverage_80 is not None
    assert 0.70 <= baseline.coverage_80 <= 0.90


def test_anomaly_flags_find_the_generators_illness_episodes() -> None:
    """Labelled illness episodes (HRV down, RHR/temperature/respiration up) get flagged."""
    flagged_true = flagged_false = ill_days = all_days = 0
    episodes = detected = 0
    for user in generator.iter_users(42, 6, date(2024, 1, 1), 365):
        gold = ground_truth.expected_gold(user)
        daily = build_daily(*[pd.DataFrame(gold[t]) for t in TABLES])
        scores = anomaly_scores(daily)
        flagged = {ts.date() for ts in scores.loc[scores["is_anomaly"], "day"]}
        ill = set(ground_truth.anomaly_days(user))
        flagged_true += len(flagged & ill)
        flagged_false += len(flagged - ill)
        ill_days += len(ill)
        all_days += len(scores)
        for event in ground_truth.events(user):
            if event["kind"] == "illness":
                episodes += 1
                span = pd.date_range(event["first_day"], event["last_day"]).date
                detected += any(day in flagged for day in span)
    assert episodes >= 5
    assert detected / episodes >= 0.6
    base_rate = ill_days / all_days
    precision = flagged_true / max(1, flagged_true + flagged_false)
    assert precision >= 10 * base_rate
    assert flagged_false / all_days <= 0.02
