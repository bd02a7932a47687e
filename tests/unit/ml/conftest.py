"""Fixtures for ml unit tests: a small synthetic gold history and an in-memory BlobStore."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.fakes import MemoryBlobStore


def synthetic_gold(
    users: int = 3, days: int = 160, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Gold-shaped frames where tomorrow's recovery depends on today's strain and sleep.

    Noise is WHOOP-sized (sd ≈ 16), so models cannot be near perfect; deliberately simple so
    the unit tests stay independent of the simulator's generator.
    """
    rng = np.random.default_rng(seed)
    recovery, sleep, strain, workouts = [], [], [], []
    start = pd.Timestamp("2025-01-06")
    for user in range(1, users + 1):
        level = rng.uniform(45, 70)
        hrv0, rhr0 = rng.uniform(40, 90), rng.uniform(50, 65)
        fatigue, previous_strain = 0.0, 10.0
        for offset in range(days):
            day = start + pd.Timedelta(days=offset)
            key = int(day.strftime("%Y%m%d"))
            asleep = rng.normal(420, 70)
            fatigue = 0.6 * fatigue + 0.4 * (previous_strain - 10)
            score = float(
                np.clip(level - 2.5 * fatigue + 0.05 * (asleep - 420) + rng.normal(0, 16), 1, 99)
            )
            recovery.append(
                {
                    "user_key": user,
                    "date_key": key,
                    "recovery_score": score,
                    "hrv_rmssd_ms": hrv0 * (1 + (score - level) / 120) + rng.normal(0, 5),
                    "resting_heart_rate_bpm": rhr0 - (score - level) / 15 + rng.normal(0, 2),
                    "spo2_percentage": 96.0,
                    "skin_temp_celsius": 33.8 + rng.normal(0, 0.2),
                }
            )
            sleep.append(
                {
                    "user_key": user,
                    "date_key": key,
                    "is_nap": False,
                    "total_sleep_minutes": asleep,
                    "sleep_performance_pct": 80.0,
                    "sleep_efficiency_pct": 89.0,
                    "sleep_debt_minutes": 30.0,
                    "respiratory_rate": 15.5 + rng.normal(0, 0.3),
                }
            )
            previous_strain = float(np.clip(rng.normal(10, 3.4), 0, 21))
            strain.append({"user_key": user, "date_key": key, "day_strain_score": previous_strain})
            if rng.random() < 0.7:
                workouts.append(
                    {
                        "user_key": user,
                        "date_key": key,
                        "duration_minutes": 60.0,
                        "strain_score": 8.0,
                    }
                )
    return (
        pd.DataFrame(recovery),
        pd.DataFrame(sleep),
        pd.DataFrame(strain),
        pd.DataFrame(workouts),
    )


@pytest.fixture
def gold() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return synthetic_gold()


@pytest.fixture
def blobs() -> MemoryBlobStore:
    return MemoryBlobStore()
