"""Turn one user's gold facts into ``fact_predictions`` rows.

Row semantics (also in ``docs/ml.md``): a row's ``date_key`` is the **target day** D+1; the
prediction uses only what was known at the end of day D. The anomaly columns describe day D
itself (the latest observed day when the prediction was made): an illness signal on D is the
reason to distrust, or explain, tomorrow's prediction.

Every day D that has gold data gets a ``baseline_7d_mean`` row (when the user has any recovery
in the last 7 days); the trained model adds its own row for days where D's recovery is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sklearn.pipeline import Pipeline

from ml.data import GoldFrames
from ml.features import anomaly_scores, build_daily, build_features, date_to_date_key
from ml.predict import BASELINE_NAME, BASELINE_VERSION, predict_baseline, predict_model

PREDICTION_COLUMNS: tuple[str, ...] = (
    "user_key",
    "date_key",
    "model_name",
    "model_version",
    "predicted_recovery",
    "lower_80",
    "upper_80",
    "is_anomaly",
    "anomaly_score",
    "anomaly_reasons",
    "scored_at",
    "run_id",
)


@dataclass(frozen=True)
class ScoringModel:
    """A trained pipeline plus the identity written into every row it produces."""

    name: str
    version: str
    pipeline: Pipeline


def _rows(
    features: pd.DataFrame,
    predictions: pd.DataFrame,
    anomalies: pd.DataFrame,
    *,
    model_name: str,
    model_version: str,
    run_id: str,
    scored_at: datetime,
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "user_key": features["user_key"].astype("int64"),
            "date_key": features["target_day"].map(lambda ts: date_to_date_key(ts.date())),
            "model_name": model_name,
            "model_version": model_version,
            "predicted_recovery": predictions["predicted"],
            "lower_80": predictions["lower"],
            "upper_80": predictions["upper"],
            "is_anomaly": anomalies["is_anomaly"].astype(bool),
            "anomaly_score": anomalies["anomaly_score"].astype("float64"),
            "anomaly_reasons": anomalies["anomaly_reasons"].astype(str),
            "scored_at": scored_at,
            "run_id": run_id,
        },
        index=features.index,
    )
    frame = frame.loc[frame["predicted_recovery"].notna()]
    return frame[list(PREDICTION_COLUMNS)].reset_index(drop=True)


def score(
    gold: GoldFrames,
    *,
    model: ScoringModel | None,
    run_id: str,
    scored_at: datetime,
    since: date | None = None,
) -> pd.DataFrame:
    """Predictions for every day with gold data, for the baseline and (if given) the model.

    Args:
        gold: the users' gold facts (full history: rolling features need the past).
        model: the trained model, or ``None`` to write the baseline only.
        run_id: written into every row; rows of an older run in the window are stale.
        scored_at: UTC timestamp written into every row.
        since: earliest gold day that changed; only rows with target day ``> since`` are
            returned (rolling features make every later day potentially different).

    Returns:
        Rows in :data:`PREDICTION_COLUMNS` order, baseline first then model.
    """
    daily = build_daily(gold.recovery, gold.sleep, gold.strain, gold.workouts)
    if daily.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PREDICTION_COLUMNS})
    features = build_features(daily)
    anomalies = anomaly_scores(daily).reindex(features.index)
    has_gold = daily[["recovery", "day_strain", "asleep_minutes"]].notna().any(axis=1)
    keep = has_gold.reindex(features.index).fillna(False).astype(bool)
    if since is not None:
        keep &= features["day"] >= pd.Timestamp(since)
    # Predict on the full history (the baseline's interval needs past residuals), then keep.
    baseline = predict_baseline(features).loc[keep]
    modelled = predict_model(model.pipeline, features).loc[keep] if model is not None else None
    features = features.loc[keep]
    anomalies = anomalies.loc[keep]
    parts = [
        _rows(
            features,
            baseline,
            anomalies,
            model_name=BASELINE_NAME,
            model_version=BASELINE_VERSION,
            run_id=run_id,
            scored_at=scored_at,
        )
    ]
    if model is not None and modelled is not None:
        parts.append(
            _rows(
                features,
                modelled,
                anomalies,
                model_name=model.name,
                model_version=model.version,
                run_id=run_id,
                scored_at=scored_at,
            )
        )
    return pd.concat(parts, ignore_index=True)
