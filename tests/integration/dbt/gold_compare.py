"""Compare gold rows with the generator's ground truth, column by column."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from whoop_simulator.generator import SimUser
from whoop_simulator.ground_truth import expected_gold

PRIMARY_KEYS = {
    "fact_daily_recovery": "cycle_id",
    "fact_sleep": "sleep_id",
    "fact_strain": "cycle_id",
    "fact_workouts": "workout_id",
}


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    if isinstance(a, Sequence) and not isinstance(a, str):
        return isinstance(b, Sequence) and len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def expected_rows(
    users: Iterable[SimUser], table: str, corrupt_rate: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for user in users:
        rows += expected_gold(user, corrupt_rate=corrupt_rate)[table]
    return rows


def diff_rows(
    table: str, actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Human-readable differences (empty when gold equals the truth)."""
    pk = PRIMARY_KEYS[table]
    got = {str(r[pk]): r for r in actual}
    want = {str(r[pk]): r for r in expected}
    problems = [f"{table}: missing {k}" for k in sorted(want.keys() - got.keys())[:10]]
    problems += [f"{table}: unexpected {k}" for k in sorted(got.keys() - want.keys())[:10]]
    for key in sorted(want.keys() & got.keys()):
        w, g = want[key], got[key]
        if set(w) != set(g):
            problems.append(f"{table}: columns differ {sorted(set(w) ^ set(g))}")
            break
        for col in w:
            if not _same(g[col], w[col]):
                problems.append(f"{table}[{key}].{col}: gold={g[col]!r} truth={w[col]!r}")
        if len(problems) > 30:
            break
    return problems
