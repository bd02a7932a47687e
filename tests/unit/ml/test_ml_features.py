"""Features: calendar-dense days, no leakage from the future, the label is D+1's recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import (
    FEATURE_COLUMNS,
    TARGET,
    anomaly_scores,
    baseline_predictions,
    build_daily,
    build_features,
    date_key_to_date,
    date_to_date_key,
)


def test_date_key_round_trip() -> None:
    for key in (20250101, 20241231, 20240229):
        assert date_to_date_key(date_key_to_date(key)) == key


def test_daily_frame_is_dense_and_ignores_naps(gold) -> None:
    recovery, sleep, strain, workouts = gold
    # Drop three days of one user and add a nap that must not count as the main sleep.
    recovery = recovery[~recovery["date_key"].isin([20250110, 20250111, 20250112])]
    nap = sleep.iloc[[0]].assign(is_nap=True, total_sleep_minutes=30.0)
    daily = build_daily(recovery, pd.concat([sleep, nap]), strain, workouts)
    user1 = daily[daily["user_key"] == 1]
    assert len(user1) == 160
    assert user1["day"].diff().dropna().eq(pd.Timedelta(days=1)).all()
    gap = user1[user1["day"].between("2025-01-10", "2025-01-12")]
    assert gap["recovery"].isna().all()
    first = user1.iloc[0]
    assert first["asleep_minutes"] == sleep.iloc[0]["total_sleep_minutes"]


def test_target_is_next_days_recovery(gold) -> None:
    features = build_features(build_daily(*gold))
    user = features[features["user_key"] == 2].reset_index(drop=True)
    assert np.allclose(user[TARGET].iloc[:-1].to_numpy(), user["recovery"].iloc[1:].to_numpy())
    assert np.isnan(user[TARGET].iloc[-1])
    assert (user["target_day"] - user["day"]).eq(pd.Timedelta(days=1)).all()


def test_features_do_not_look_ahead(gold) -> None:
    """Changing everything after day D must not change any feature of day D."""
    recovery, sleep, strain, workouts = gold
    cutoff = 20250301
    full = build_features(build_daily(recovery, sleep, strain, workouts))
    future = recovery["date_key"] > cutoff
    changed = recovery.copy()
    changed.loc[future, "recovery_score"] = 1.0
    changed.loc[future, "hrv_rmssd_ms"] = 5.0
    strain2 = strain.copy()
    strain2.loc[strain2["date_key"] > cutoff, "day_strain_score"] = 21.0
    altered = build_features(build_daily(changed, sleep, strain2, workouts))
    past = full["day"] <= pd.Timestamp("2025-03-01")
    cols = list(FEATURE_COLUMNS)
    pd.testing.assert_frame_equal(full.loc[past, cols], altered.loc[past, cols])
    # ...while the label of day D (D+1's recovery) is allowed to, and does, change.
    boundary = full["day"] == pd.Timestamp("2025-03-01")
    assert not np.allclose(full.loc[boundary, TARGET], altered.loc[boundary, TARGET])


def test_rolling_means_use_calendar_windows(gold) -> None:
    features = build_features(build_daily(*gold))
    user = features[features["user_key"] == 1].reset_index(drop=True)
    expected = user["recovery"].iloc[30:37].mean()
    assert abs(user.loc[36, "recovery_mean_7"] - expected) < 1e-9
    assert (
        abs(user.loc[36, "hrv_dev_28"] - (user.loc[36, "hrv"] - user.loc[36, "hrv_mean_28"])) < 1e-9
    )


def test_baselines(gold) -> None:
    features = build_features(build_daily(*gold))
    base = baseline_predictions(features)
    assert base["persistence"].equals(features["recovery"])
    assert base["mean_7d"].equals(features["recovery_mean_7"])
    assert base["mean_28d"].equals(features["recovery_mean_28"])


def test_anomaly_flags_an_illness_like_day(gold) -> None:
    recovery, sleep, strain, workouts = gold
    sick_day = 20250320
    recovery = recovery.copy()
    sleep = sleep.copy()
    mask = (recovery["user_key"] == 1) & (recovery["date_key"] == sick_day)
    recovery.loc[mask, "hrv_rmssd_ms"] = recovery.loc[mask, "hrv_rmssd_ms"] * 0.4
    recovery.loc[mask, "skin_temp_celsius"] = 35.5
    smask = (sleep["user_key"] == 1) & (sleep["date_key"] == sick_day)
    sleep.loc[smask, "respiratory_rate"] = 19.0
    scores = anomaly_scores(build_daily(recovery, sleep, strain, workouts))
    sick = scores[(scores["user_key"] == 1) & (scores["day"] == pd.Timestamp("2025-03-20"))].iloc[0]
    assert sick["is_anomaly"]
    assert "skin_temp_high" in sick["anomaly_reasons"]
    assert "resp_rate_high" in sick["anomaly_reasons"]
    # Ordinary noise rarely trips a 3.5 robust-z threshold.
    assert scores["is_anomaly"].mean() < 0.05
    # Too little history: no verdict in the first two weeks.
    assert not scores[scores["day"] < pd.Timestamp("2025-01-20")]["is_anomaly"].any()
