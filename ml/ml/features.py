"""Features known at the end of day D for predicting recovery on day D+1 (pure functions).

Everything here takes and returns pandas frames and touches no I/O, so the scorer, training,
evaluation and the tests share exactly one definition of a feature. The inputs are the gold
facts (``fact_daily_recovery``, ``fact_sleep``, ``fact_strain``, ``fact_workouts``) as frames
with the gold column names; the output has one row per user and calendar day.

Leakage rule: a feature row for day D may only use values whose day is ``<= D``. Rolling
windows end at D (inclusive) and the target is D+1's recovery, so ``shift(-1)`` is the only
place the future is touched, and only for the label.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

TARGET = "target_recovery"
"""Column holding recovery on day D+1 (the label); NaN when D+1 has no scored recovery."""

# Daily signals, one value per user and day (gold day = wake day in the user's local time).
DAILY_COLUMNS: tuple[str, ...] = (
    "recovery",
    "hrv",
    "rhr",
    "skin_temp",
    "resp_rate",
    "spo2",
    "day_strain",
    "asleep_minutes",
    "sleep_performance",
    "sleep_efficiency",
    "sleep_debt_minutes",
    "workout_minutes",
    "workout_strain",
)

FEATURE_COLUMNS: tuple[str, ...] = (
    "recovery",
    "hrv",
    "rhr",
    "day_strain",
    "asleep_minutes",
    "sleep_performance",
    "sleep_efficiency",
    "sleep_debt_minutes",
    "resp_rate",
    "workout_minutes",
    "recovery_mean_7",
    "recovery_mean_28",
    "recovery_dev_28",
    "hrv_mean_7",
    "hrv_mean_28",
    "hrv_dev_28",
    "rhr_mean_7",
    "rhr_mean_28",
    "rhr_dev_28",
    "strain_mean_7",
    "strain_dev_28",
    "asleep_dev_28",
    "target_weekday_sin",
    "target_weekday_cos",
    "target_is_weekend",
)
"""The model's inputs, in order. Weekday terms describe D+1, which is known at the end of D."""

ANOMALY_SIGNALS: tuple[tuple[str, int], ...] = (
    ("hrv", -1),
    ("rhr", 1),
    ("skin_temp", 1),
    ("resp_rate", 1),
)
"""Signals checked for anomalies and the direction that means trouble (illness, overreaching)."""

BASELINE_WINDOW = 28
ANOMALY_Z_THRESHOLD = 3.5
ANOMALY_MIN_HISTORY = 14
_MAD_TO_SD = 1.4826


def date_key_to_date(key: int) -> date:
    """``YYYYMMDD`` int → date (the gold ``date_key``)."""
    return date(key // 10000, (key // 100) % 100, key % 100)


def date_to_date_key(day: date) -> int:
    """date → ``YYYYMMDD`` int."""
    return day.year * 10000 + day.month * 100 + day.day


def _with_day(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    keys = out["date_key"].astype("int64")
    out["day"] = pd.to_datetime(keys.astype(str), format="%Y%m%d")
    out["user_key"] = out["user_key"].astype("int64")
    return out


def _empty_daily() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in DAILY_COLUMNS})
    frame.insert(0, "day", pd.Series(dtype="datetime64[ns]"))
    frame.insert(0, "user_key", pd.Series(dtype="int64"))
    return frame


def build_daily(
    recovery: pd.DataFrame,
    sleep: pd.DataFrame,
    strain: pd.DataFrame,
    workouts: pd.DataFrame,
) -> pd.DataFrame:
    """One row per user and calendar day between their first and last gold day.

    Missing days (non-wear, deleted records) stay as rows of NaN, so rolling windows are windows
    of calendar days, not of observations: a 7-day mean after a week off the wrist is empty
    rather than reaching back a fortnight.

    Args:
        recovery: ``fact_daily_recovery`` rows (user_key, date_key, recovery_score,
            hrv_rmssd_ms, resting_heart_rate_bpm, skin_temp_celsius, spo2_percentage).
        sleep: ``fact_sleep`` rows; naps are ignored, the main sleep of the wake day is used
            (an unscored one has null scores, which the means skip).
        strain: ``fact_strain`` rows (day_strain_score), one per user-day.
        workouts: ``fact_workouts`` rows (duration_minutes, strain_score), summed per day;
            an unscored workout adds its minutes but no strain.

    Returns:
        Columns ``user_key``, ``day`` (datetime64), then :data:`DAILY_COLUMNS`.
    """
    parts: list[pd.DataFrame] = []
    if len(recovery):
        r = _with_day(recovery)
        r = r.rename(
            columns={
                "recovery_score": "recovery",
                "hrv_rmssd_ms": "hrv",
                "resting_heart_rate_bpm": "rhr",
                "skin_temp_celsius": "skin_temp",
                "spo2_percentage": "spo2",
            }
        )
        cols = ["recovery", "hrv", "rhr", "skin_temp", "spo2"]
        parts.append(r.groupby(["user_key", "day"])[cols].mean())
    if len(sleep):
        s = _with_day(sleep)
        s = s[~s["is_nap"].astype(bool)]
        s = s.rename(
            columns={
                "total_sleep_minutes": "asleep_minutes",
                "sleep_performance_pct": "sleep_performance",
                "sleep_efficiency_pct": "sleep_efficiency",
                "respiratory_rate": "resp_rate",
            }
        )
        cols = [
            "asleep_minutes",
            "sleep_performance",
            "sleep_efficiency",
            "sleep_debt_minutes",
            "resp_rate",
        ]
        parts.append(s.groupby(["user_key", "day"])[cols].mean())
    if len(strain):
        c = _with_day(strain).rename(columns={"day_strain_score": "day_strain"})
        parts.append(c.groupby(["user_key", "day"])[["day_strain"]].max())
    if len(workouts):
        w = _with_day(workouts).rename(
            columns={"duration_minutes": "workout_minutes", "strain_score": "workout_strain"}
        )
        parts.append(
            w.groupby(["user_key", "day"])[["workout_minutes", "workout_strain"]].sum(min_count=1)
        )
    if not parts:
        return _empty_daily()
    joined = pd.concat(parts, axis=1)
    for col in DAILY_COLUMNS:
        if col not in joined.columns:
            joined[col] = np.nan
    joined = joined[list(DAILY_COLUMNS)].astype("float64")
    frames: list[pd.DataFrame] = []
    for user_key, user_frame in joined.groupby(level="user_key"):
        days = user_frame.index.get_level_values("day")
        calendar = pd.date_range(days.min(), days.max(), freq="D", name="day")
        dense = user_frame.droplevel("user_key").reindex(calendar)
        dense.insert(0, "user_key", int(str(user_key)))
        frames.append(dense.reset_index())
    daily = pd.concat(frames, ignore_index=True)
    # Days without a workout had zero workout minutes, not an unknown amount.
    has_data = daily[["recovery", "day_strain", "asleep_minutes"]].notna().any(axis=1)
    for col in ("workout_minutes", "workout_strain"):
        daily.loc[has_data & daily[col].isna(), col] = 0.0
    return daily.sort_values(["user_key", "day"], ignore_index=True)


def _rolling_mean(series: pd.Series, window: int) -> pd.Series:
    return series.rolling(window, min_periods=max(1, window // 4)).mean()


def build_features(daily: pd.DataFrame) -> pd.DataFrame:
    """Add rolling means, deviations, weekday terms and the D+1 label to :func:`build_daily`.

    Returns:
        The daily frame plus :data:`FEATURE_COLUMNS`, ``target_day`` (D+1) and
        :data:`TARGET`. Rows keep NaNs; the model's imputer handles them.
    """
    out = daily.sort_values(["user_key", "day"], ignore_index=True).copy()
    grouped = out.groupby("user_key", sort=False)
    for col, name in (
        ("recovery", "recovery"),
        ("hrv", "hrv"),
        ("rhr", "rhr"),
        ("day_strain", "strain"),
        ("asleep_minutes", "asleep"),
    ):
        out[f"{name}_mean_7"] = grouped[col].transform(lambda s: _rolling_mean(s, 7))
        out[f"{name}_mean_28"] = grouped[col].transform(lambda s: _rolling_mean(s, 28))
        out[f"{name}_dev_28"] = out[col] - out[f"{name}_mean_28"]
    out["target_day"] = out["day"] + pd.Timedelta(days=1)
    weekday = out["target_day"].dt.day_of_week.astype("float64")
    out["target_weekday_sin"] = np.sin(2 * np.pi * weekday / 7)
    out["target_weekday_cos"] = np.cos(2 * np.pi * weekday / 7)
    out["target_is_weekend"] = (weekday >= 5).astype("float64")
    # The label: the same user's recovery on the next calendar day (rows are dense per user).
    out[TARGET] = out.groupby("user_key", sort=False)["recovery"].shift(-1)
    return out


def baseline_predictions(features: pd.DataFrame) -> pd.DataFrame:
    """The naive predictors every model must beat, evaluated on a feature frame.

    Returns:
        Columns ``persistence`` (D's recovery), ``mean_7d`` and ``mean_28d`` (rolling means of
        recovery ending at D), aligned with ``features``' index.
    """
    return pd.DataFrame(
        {
            "persistence": features["recovery"],
            "mean_7d": features["recovery_mean_7"],
            "mean_28d": features["recovery_mean_28"],
        },
        index=features.index,
    )


def anomaly_scores(daily: pd.DataFrame) -> pd.DataFrame:
    """Robust z-scores of HRV, RHR, skin temperature and respiratory rate vs a 28-day baseline.

    The baseline for day D is the median and MAD of the user's previous 28 days (D excluded, so
    a sudden illness does not dilute its own baseline). Only the harmful direction counts: a
    low HRV or a high RHR, temperature or respiratory rate.

    Returns:
        Columns ``user_key``, ``day``, ``z_<signal>`` per signal, ``anomaly_score`` (the largest
        harmful z, 0 when none), ``is_anomaly`` and ``anomaly_reasons`` (``"; "``-joined, ``""``
        when normal).
    """
    out = daily[["user_key", "day"]].copy()
    z_cols: list[tuple[str, str, int]] = []
    grouped = daily.groupby("user_key", sort=False)
    for signal, direction in ANOMALY_SIGNALS:
        shifted = grouped[signal].shift(1)
        rolling = shifted.groupby(daily["user_key"]).rolling(
            BASELINE_WINDOW, min_periods=ANOMALY_MIN_HISTORY
        )
        median = rolling.median().reset_index(level=0, drop=True).sort_index()
        # MAD over the same window: median of absolute deviations from the window median.
        mad = (
            shifted.groupby(daily["user_key"])
            .rolling(BASELINE_WINDOW, min_periods=ANOMALY_MIN_HISTORY)
            .apply(lambda w: float(np.median(np.abs(w[~np.isnan(w)] - np.nanmedian(w)))), raw=True)
            .reset_index(level=0, drop=True)
            .sort_index()
        )
        scale = (mad * _MAD_TO_SD).where(mad > 0)
        z = (daily[signal] - median) / scale
        out[f"z_{signal}"] = z
        z_cols.append((signal, f"z_{signal}", direction))
    harmful = pd.DataFrame(
        {col: (out[col] * direction).clip(lower=0) for _, col, direction in z_cols}
    ).fillna(0.0)
    out["anomaly_score"] = harmful.max(axis=1).astype("float64")
    out["is_anomaly"] = out["anomaly_score"] >= ANOMALY_Z_THRESHOLD
    labels = {"hrv": "hrv_low", "rhr": "rhr_high", "skin_temp": "skin_temp_high"}
    labels["resp_rate"] = "resp_rate_high"

    def reasons(row: pd.Series) -> str:
        found = [
            f"{labels[signal]} (z={row[col]:+.1f})"
            for signal, col, direction in z_cols
            if pd.notna(row[col]) and row[col] * direction >= ANOMALY_Z_THRESHOLD
        ]
        return "; ".join(found)

    out["anomaly_reasons"] = out.apply(reasons, axis=1) if len(out) else pd.Series(dtype=str)
    return out


def next_day(day: date) -> date:
    """The target day of a prediction made at the end of ``day``."""
    return day + timedelta(days=1)
