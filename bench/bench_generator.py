"""Generator benchmark: 10 users × 5 years in < 30 s, memory flat per user.

Generation is lazy (one user at a time), so peak RSS should stop growing after the first user:
each user is generated, its ground truth computed, and dropped before the next.
"""

from __future__ import annotations

import gc
import time
from datetime import date
from pathlib import Path

import psutil

from bench import RESULTS_DIR, BenchResult
from whoop_simulator.generator import iter_users
from whoop_simulator.ground_truth import expected_gold

USERS = 10
YEARS = 5


def run(
    results_dir: Path = RESULTS_DIR, users: int = USERS, years: int = YEARS
) -> list[BenchResult]:
    """Time generation (plus ground truth) and sample RSS after each user."""
    proc = psutil.Process()
    gc.collect()
    rss0 = proc.memory_info().rss
    rss_after: list[int] = []
    records = 0
    per_user_s: list[float] = []
    t0 = time.perf_counter()
    mark = t0
    for user in iter_users(2026, users, date(2020, 1, 1), years * 365):
        records += sum(len(v) for v in user.timelines.values())
        expected_gold(user)
        del user
        gc.collect()
        rss_after.append(proc.memory_info().rss)
        per_user_s.append(round(time.perf_counter() - mark, 3))
        mark = time.perf_counter()
    elapsed = time.perf_counter() - t0
    first_user_mb = (rss_after[0] - rss0) / 2**20
    growth_after_first_mb = (max(rss_after) - rss_after[0]) / 2**20
    details: dict[str, object] = {
        "users": users,
        "years": years,
        "records": records,
        "rss_after_each_user_mb": [round(r / 2**20, 1) for r in rss_after],
        "seconds_per_user": per_user_s,
    }
    results = [
        BenchResult(
            name="generator_10_users_5_years",
            metric="wall time (generate + ground truth)",
            value=round(elapsed, 3),
            unit="s",
            goal="< 30 s",
            details=details,
        ),
        BenchResult(
            name="generator_memory_per_user",
            metric="RSS growth over the first user (allocator high-water, then flat)",
            value=round(first_user_mb, 1),
            unit="MiB",
            goal="flat per user (growth after the first user ≈ 0)",
            details={**details, "rss_growth_after_first_user_mb": round(growth_after_first_mb, 1)},
        ),
    ]
    for r in results:
        r.write(results_dir)
    return results


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO)
    for result in run():
        logging.getLogger(__name__).info("%s = %s %s", result.name, result.value, result.unit)
