"""Train the next-day recovery model: one sklearn ``Pipeline`` with an 80 % interval built in.

Why ridge: on real WHOOP data ridge and gradient-boosted trees tie (MAE 17.4 vs 19.0 for the
7-day mean, see ``docs/ml.md``); ridge trains in milliseconds, is stable on a few hundred
rows, and its in-sample residuals are an honest estimate of out-of-sample spread, which is what
the interval is made from.

The model is global (pooled over users) but every feature that carries a person's level is
either that person's own rolling mean or a deviation from it, so it transfers to a new user
after a week of data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ml.exceptions import NotEnoughData
from ml.features import FEATURE_COLUMNS, TARGET

MODEL_NAME = "ridge_recovery"
COVERAGE = 0.8
MIN_TRAINING_ROWS = 30

FloatArray = npt.NDArray[np.float64]


class IntervalRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Wrap a regressor and remember the quantiles of its training residuals.

    ``predict_interval`` returns ``prediction + q_low`` and ``prediction + q_high``, the
    empirical ``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` residual quantiles: a split-free
    conformal-style interval that is well calibrated for a low-variance model such as ridge.
    Scores are clipped to WHOOP's 0–100 range.
    """

    def __init__(self, estimator: Any = None, coverage: float = COVERAGE) -> None:
        self.estimator = estimator
        self.coverage = coverage

    def fit(self, X: FloatArray, y: FloatArray) -> IntervalRegressor:
        """Fit the wrapped estimator and the residual quantiles."""
        base = self.estimator if self.estimator is not None else Ridge(alpha=10.0)
        self.estimator_ = clone(base)
        self.estimator_.fit(X, y)
        residuals = np.asarray(y, dtype=float) - self.estimator_.predict(X)
        alpha = (1.0 - self.coverage) / 2.0
        self.q_low_ = float(np.quantile(residuals, alpha))
        self.q_high_ = float(np.quantile(residuals, 1.0 - alpha))
        self.n_features_in_ = int(np.asarray(X).shape[1])
        return self

    def predict(self, X: FloatArray) -> FloatArray:
        """Point prediction, clipped to 0–100."""
        raw: FloatArray = np.asarray(self.estimator_.predict(X), dtype=float)
        return np.clip(raw, 0.0, 100.0)

    def predict_interval(self, X: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(prediction, lower, upper)`` of the central ``coverage`` interval, clipped."""
        raw = np.asarray(self.estimator_.predict(X), dtype=float)
        return (
            np.clip(raw, 0.0, 100.0),
            np.clip(raw + self.q_low_, 0.0, 100.0),
            np.clip(raw + self.q_high_, 0.0, 100.0),
        )


def build_pipeline(alpha: float = 10.0) -> Pipeline:
    """Impute (median) → scale → ridge with interval; input is a frame of FEATURE_COLUMNS."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", IntervalRegressor(Ridge(alpha=alpha))),
        ]
    )


def training_rows(features: pd.DataFrame) -> pd.DataFrame:
    """Rows with a label and with D's own recovery known (the minimum a prediction needs)."""
    mask = features[TARGET].notna() & features["recovery"].notna()
    return features.loc[mask]


def fit_pipeline(features: pd.DataFrame, alpha: float = 10.0) -> Pipeline:
    """Fit a fresh pipeline on every labelled row of ``features``.

    Raises:
        NotEnoughData: fewer than :data:`MIN_TRAINING_ROWS` labelled rows.
    """
    rows = training_rows(features)
    if len(rows) < MIN_TRAINING_ROWS:
        raise NotEnoughData(rows=len(rows), needed=MIN_TRAINING_ROWS)
    pipeline = build_pipeline(alpha)
    pipeline.fit(rows[list(FEATURE_COLUMNS)], rows[TARGET].to_numpy(dtype=float))
    return pipeline


def predict_interval(
    pipeline: Pipeline, features: pd.DataFrame
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Run the pipeline's transforms, then the interval regressor, on FEATURE_COLUMNS."""
    X = pipeline[:-1].transform(features[list(FEATURE_COLUMNS)])
    model: IntervalRegressor = pipeline[-1]
    return model.predict_interval(X)


def new_version(now: datetime | None = None) -> str:
    """Sortable model version: UTC timestamp to the second (``20261127T021500Z``)."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class TrainedModel:
    """A fitted pipeline and what is known about it, ready to be saved as an artefact."""

    name: str
    version: str
    pipeline: Pipeline
    metrics: dict[str, Any] = field(default_factory=dict)


def train(features: pd.DataFrame, *, name: str = MODEL_NAME, alpha: float = 10.0) -> TrainedModel:
    """Fit on all labelled rows and record the training summary in ``metrics``.

    Raises:
        NotEnoughData: too few labelled rows to fit anything meaningful.
    """
    pipeline = fit_pipeline(features, alpha)
    rows = training_rows(features)
    X = rows[list(FEATURE_COLUMNS)]
    fitted = pipeline.predict(X)
    model: IntervalRegressor = pipeline[-1]
    metrics: dict[str, Any] = {
        "training_rows": len(rows),
        "users": int(rows["user_key"].nunique()),
        "first_day": str(rows["day"].min().date()),
        "last_day": str(rows["day"].max().date()),
        "train_mae": float(np.mean(np.abs(rows[TARGET].to_numpy(dtype=float) - fitted))),
        "interval_q_low": model.q_low_,
        "interval_q_high": model.q_high_,
        "alpha": alpha,
        "features": list(FEATURE_COLUMNS),
    }
    return TrainedModel(name=name, version=new_version(), pipeline=pipeline, metrics=metrics)
