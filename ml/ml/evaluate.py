"""Rolling-origin evaluation: the model against naive baselines on the same predictions.

At each origin ``t`` (weekly), a fresh global model is fitted on every row whose label was
observed before ``t`` (``target_day < t``) and predicts the next week of targets
(``t <= target_day < t + 7``). Baselines need no fitting but are scored on exactly the same
rows, so the MAEs in one report are comparable. A random split would leak the future through
rolling means and autocorrelation; this split cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml.features import TARGET, baseline_predictions
from ml.predict import BASELINE_NAME, predict_baseline, predict_model
from ml.train import MIN_TRAINING_ROWS, MODEL_NAME, fit_pipeline

DEFAULT_MIN_TRAIN_DAYS = 56
DEFAULT_REFIT_DAYS = 7


@dataclass(frozen=True)
class Origin:
    """One rolling origin: train on labels before ``start``, test on ``[start, end)``."""

    start: pd.Timestamp
    end: pd.Timestamp


@dataclass
class ModelScore:
    """Accuracy of one predictor on the evaluation rows."""

    name: str
    mae: float
    n: int
    coverage_80: float | None = None
    mean_interval_width: float | None = None


@dataclass
class EvaluationReport:
    """Everything ``wdp ml evaluate`` prints and writes."""

    scores: list[ModelScore]
    origins: int
    users: int
    first_target_day: date | None
    last_target_day: date | None
    refit_every_days: int
    min_train_days: int
    notes: list[str] = field(default_factory=list)

    def score(self, name: str) -> ModelScore:
        """The score of one predictor by name."""
        for s in self.scores:
            if s.name == name:
                return s
        raise KeyError(name)

    def best_naive(self) -> ModelScore:
        """The strongest of the three naive baselines (the bar the model has to clear)."""
        naive = [s for s in self.scores if s.name in NAIVE_BASELINES]
        return min(naive, key=lambda s: s.mae)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        out = asdict(self)
        for key in ("first_target_day", "last_target_day"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        return out


NAIVE_BASELINES = ("persistence", "mean_7d", "mean_28d")


def rolling_origins(
    features: pd.DataFrame,
    *,
    min_train_days: int = DEFAULT_MIN_TRAIN_DAYS,
    refit_every_days: int = DEFAULT_REFIT_DAYS,
) -> list[Origin]:
    """Weekly origins from ``min_train_days`` after the first label to the last label."""
    labelled = features.loc[features[TARGET].notna(), "target_day"]
    if labelled.empty:
        return []
    first = labelled.min() + pd.Timedelta(days=min_train_days)
    last = labelled.max()
    origins: list[Origin] = []
    start = first
    step = pd.Timedelta(days=refit_every_days)
    while start <= last:
        origins.append(Origin(start=start, end=start + step))
        start += step
    return origins


def _coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[float, float]:
    inside = (y >= lower) & (y <= upper)
    return float(np.mean(inside)), float(np.mean(upper - lower))


def evaluate(
    features: pd.DataFrame,
    *,
    min_train_days: int = DEFAULT_MIN_TRAIN_DAYS,
    refit_every_days: int = DEFAULT_REFIT_DAYS,
    fit: Callable[[pd.DataFrame], Pipeline] = fit_pipeline,
) -> EvaluationReport:
    """Score the model and the naive baselines on rolling-origin test weeks.

    Args:
        features: output of :func:`ml.features.build_features` for any number of users.
        min_train_days: history before the first origin.
        refit_every_days: the model is refitted at every origin, this many days apart.
        fit: how to fit the model on past rows (a global ridge by default).

    Returns:
        MAE per predictor over the rows every predictor could score, plus 80 % interval
        coverage for the model and the 7-day-mean baseline.
    """
    origins = rolling_origins(
        features, min_train_days=min_train_days, refit_every_days=refit_every_days
    )
    baselines = baseline_predictions(features)
    baseline_interval = predict_baseline(features)
    parts: list[pd.DataFrame] = []
    notes: list[str] = []
    for origin in origins:
        past = features.loc[features["target_day"] < origin.start]
        test_mask = (
            (features["target_day"] >= origin.start)
            & (features["target_day"] < origin.end)
            & features[TARGET].notna()
        )
        test = features.loc[test_mask]
        if test.empty:
            continue
        labelled_past = past[TARGET].notna() & past["recovery"].notna()
        if int(labelled_past.sum()) < MIN_TRAINING_ROWS:
            notes.append(f"origin {origin.start.date()} skipped: too little history")
            continue
        pipeline = fit(past)
        model = predict_model(pipeline, test)
        part = pd.DataFrame(
            {
                "user_key": test["user_key"],
                "target_day": test["target_day"],
                "y": test[TARGET],
                MODEL_NAME: model["predicted"],
                f"{MODEL_NAME}_lower": model["lower"],
                f"{MODEL_NAME}_upper": model["upper"],
            },
            index=test.index,
        )
        parts.append(part)
    if not parts:
        return EvaluationReport(
            scores=[],
            origins=0,
            users=int(features["user_key"].nunique()),
            first_target_day=None,
            last_target_day=None,
            refit_every_days=refit_every_days,
            min_train_days=min_train_days,
            notes=[*notes, "not enough history for a single origin"],
        )
    rows = pd.concat(parts)
    rows = rows.join(baselines)
    rows[BASELINE_NAME + "_lower"] = baseline_interval["lower"]
    rows[BASELINE_NAME + "_upper"] = baseline_interval["upper"]
    predictors = [MODEL_NAME, *NAIVE_BASELINES]
    # Score every predictor on the same rows: those all of them could predict.
    complete = rows.dropna(subset=[*predictors, "y"])
    dropped = len(rows) - len(complete)
    if dropped:
        notes.append(f"{dropped} test rows without a prediction from every predictor excluded")
    y = complete["y"].to_numpy(dtype=float)
    scores: list[ModelScore] = []
    for name in predictors:
        pred = complete[name].to_numpy(dtype=float)
        scores.append(ModelScore(name=name, mae=float(np.mean(np.abs(y - pred))), n=len(y)))
    model_cov, model_width = _coverage(
        y,
        complete[f"{MODEL_NAME}_lower"].to_numpy(dtype=float),
        complete[f"{MODEL_NAME}_upper"].to_numpy(dtype=float),
    )
    scores[0].coverage_80 = model_cov
    scores[0].mean_interval_width = model_width
    with_interval = complete.dropna(subset=[f"{BASELINE_NAME}_lower", f"{BASELINE_NAME}_upper"])
    if len(with_interval):
        base_cov, base_width = _coverage(
            with_interval["y"].to_numpy(dtype=float),
            with_interval[f"{BASELINE_NAME}_lower"].to_numpy(dtype=float),
            with_interval[f"{BASELINE_NAME}_upper"].to_numpy(dtype=float),
        )
        mean_7d = next(s for s in scores if s.name == "mean_7d")
        mean_7d.coverage_80 = base_cov
        mean_7d.mean_interval_width = base_width
    return EvaluationReport(
        scores=scores,
        origins=len(parts),
        users=int(complete["user_key"].nunique()),
        first_target_day=complete["target_day"].min().date(),
        last_target_day=complete["target_day"].max().date(),
        refit_every_days=refit_every_days,
        min_train_days=min_train_days,
        notes=notes,
    )
