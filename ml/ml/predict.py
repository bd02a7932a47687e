"""Predictions for the scorer: the honest baseline, the trained model, and the model registry.

Artefacts live in the ``BlobStore`` (local folder or ADLS) under
``models/<name>/<version>/model.joblib`` with ``metrics.json`` beside it; the version is a
sortable UTC timestamp, so "latest" is the greatest version that has both files. Saving through
the port (not a local path) is what lets the scorer in Azure load what ``wdp ml train`` wrote
on a laptop or in a job.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml.exceptions import ArtefactError
from ml.features import FEATURE_COLUMNS, TARGET
from ml.train import COVERAGE, MODEL_NAME, TrainedModel, predict_interval
from shared.ports import BlobNotFound, BlobStore

log = logging.getLogger(__name__)

BASELINE_NAME = "baseline_7d_mean"
BASELINE_VERSION = "1"
MODELS_PREFIX = "models"
_RESIDUAL_WINDOW = 56
_RESIDUAL_MIN = 14
_Z80 = 1.2816


@dataclass
class LoadedModel:
    """A model read back from the registry."""

    name: str
    version: str
    pipeline: Pipeline
    metrics: dict[str, Any] = field(default_factory=dict)


def artefact_path(name: str, version: str) -> str:
    """Blob path of the pipeline for one model version."""
    return f"{MODELS_PREFIX}/{name}/{version}/model.joblib"


def metrics_path(name: str, version: str) -> str:
    """Blob path of the metrics JSON for one model version."""
    return f"{MODELS_PREFIX}/{name}/{version}/metrics.json"


async def save_model(blobs: BlobStore, model: TrainedModel) -> str:
    """Write the pipeline and its metrics; metrics last, so a half-saved version is invisible.

    Returns:
        The blob path of ``model.joblib``.
    """
    buffer = io.BytesIO()
    joblib.dump(model.pipeline, buffer, compress=3)
    path = artefact_path(model.name, model.version)
    await blobs.put(
        path,
        buffer.getvalue(),
        content_type="application/octet-stream",
        metadata={"model_name": model.name, "model_version": model.version},
    )
    body = json.dumps(
        {"name": model.name, "version": model.version, **model.metrics}, indent=2, default=str
    )
    await blobs.put(
        metrics_path(model.name, model.version),
        body.encode(),
        content_type="application/json",
        metadata={"model_name": model.name, "model_version": model.version},
    )
    log.info(
        "model saved",
        extra={"model_name": model.name, "model_version": model.version, "path": path},
    )
    return path


async def latest_version(blobs: BlobStore, name: str = MODEL_NAME) -> str | None:
    """Greatest version of ``name`` whose metrics file exists (complete saves only)."""
    versions: set[str] = set()
    async for info in blobs.list(f"{MODELS_PREFIX}/{name}/"):
        parts = info.path.split("/")
        if len(parts) >= 4 and parts[-1] == "metrics.json":
            versions.add(parts[-2])
    return max(versions) if versions else None


async def load_model(blobs: BlobStore, name: str, version: str) -> LoadedModel:
    """Read one version back.

    Raises:
        ArtefactError: the blob is missing or does not unpickle into a ``Pipeline``.
    """
    path = artefact_path(name, version)
    try:
        data = await blobs.get(path)
        metrics = json.loads(await blobs.get(metrics_path(name, version)))
    except BlobNotFound as exc:
        raise ArtefactError(path, "missing") from exc
    try:
        # Our own registry, written by ``save_model``; never load artefacts from elsewhere.
        pipeline = joblib.load(io.BytesIO(data))
    except Exception as exc:  # unpickling raises anything; all of it means "unusable"
        raise ArtefactError(path, f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(pipeline, Pipeline):
        raise ArtefactError(path, f"expected a sklearn Pipeline, got {type(pipeline).__name__}")
    return LoadedModel(name=name, version=version, pipeline=pipeline, metrics=metrics)


async def load_latest_model(blobs: BlobStore, name: str = MODEL_NAME) -> LoadedModel | None:
    """The latest complete version of ``name``, or ``None`` when nothing has been trained."""
    version = await latest_version(blobs, name)
    if version is None:
        return None
    return await load_model(blobs, name, version)


def predict_baseline(features: pd.DataFrame) -> pd.DataFrame:
    """The honest baseline: tomorrow = mean recovery of the last 7 days, with an 80 % interval.

    The interval comes from the user's own past errors of this very predictor (quantiles of the
    last 56 realised residuals, needing 14); before that, from the 28-day spread of recovery
    under a normal approximation. Only residuals whose label was known by day D are used.

    Returns:
        Columns ``predicted``, ``lower``, ``upper`` aligned with ``features``' index; NaN where
        the user has no recovery in the last 7 days.
    """
    frame = features.sort_values(["user_key", "day"])
    pred = frame["recovery_mean_7"]
    residual = frame[TARGET] - pred
    # Row D's residual becomes known at D+1, so the window for row D ends at D-1.
    known = residual.groupby(frame["user_key"]).shift(1)
    alpha = (1.0 - COVERAGE) / 2.0

    def rolling_q(q: float) -> pd.Series:
        return (
            known.groupby(frame["user_key"])
            .rolling(_RESIDUAL_WINDOW, min_periods=_RESIDUAL_MIN)
            .quantile(q)
            .reset_index(level=0, drop=True)
        )

    q_low = rolling_q(alpha).reindex(frame.index)
    q_high = rolling_q(1.0 - alpha).reindex(frame.index)
    spread = (
        frame.groupby("user_key")["recovery"]
        .transform(lambda s: s.rolling(28, min_periods=3).std())
        .reindex(frame.index)
    )
    lower = (pred + q_low).fillna(pred - _Z80 * spread)
    upper = (pred + q_high).fillna(pred + _Z80 * spread)
    out = pd.DataFrame(
        {
            "predicted": pred.clip(0, 100),
            "lower": lower.clip(0, 100),
            "upper": upper.clip(0, 100),
        },
        index=frame.index,
    )
    return out.reindex(features.index)


def predict_model(pipeline: Pipeline, features: pd.DataFrame) -> pd.DataFrame:
    """Model predictions with intervals for rows where D's recovery is known.

    Returns:
        Columns ``predicted``, ``lower``, ``upper`` aligned with ``features``' index; NaN rows
        where D has no recovery (the model would be extrapolating from imputed values only).
    """
    out = pd.DataFrame(
        {"predicted": np.nan, "lower": np.nan, "upper": np.nan}, index=features.index
    )
    usable = features["recovery"].notna()
    if usable.any():
        pred, lower, upper = predict_interval(pipeline, features.loc[usable])
        out.loc[usable, "predicted"] = pred
        out.loc[usable, "lower"] = lower
        out.loc[usable, "upper"] = upper
    return out


__all__ = [
    "BASELINE_NAME",
    "BASELINE_VERSION",
    "FEATURE_COLUMNS",
    "LoadedModel",
    "artefact_path",
    "latest_version",
    "load_latest_model",
    "load_model",
    "metrics_path",
    "predict_baseline",
    "predict_model",
    "save_model",
]
