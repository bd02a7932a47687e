"""Deliberately out-of-range records for testing the platform's data-quality quarantine.

Corruption is off unless the ``corrupt_rate`` fault is set. Which records are corrupted is a
pure function of ``(seed, resource, key, corrupt_rate)``: the simulator (which serves them)
and the ground truth (which says they must be quarantined) agree without sharing state. Set
the rate before the platform's first sync and keep it, or bronze holds both variants.

Only cycles, recoveries and workouts are corrupted, because their DQ rules drop one row
without changing how any other row is assigned to a day.
"""

from __future__ import annotations

import hashlib
from typing import Any

# resource -> (path inside "score", bad value, DQ rule the platform must apply)
CORRUPTIONS: dict[str, tuple[str, float | int, str]] = {
    "recovery": ("recovery_score", 140.0, "recovery_score ∉ [0,100]"),
    "cycle": ("strain", 25.0, "day/workout strain ∉ [0,21]"),
    "workout": ("max_heart_rate", 300, "max/avg HR ∉ [20,250]"),
}


def is_corrupted(seed: int, resource: str, key: str, rate: float) -> bool:
    """Whether this record is served corrupted at ``rate`` (deterministic, no RNG state)."""
    if rate <= 0 or resource not in CORRUPTIONS:
        return False
    digest = hashlib.sha256(f"{seed}:{resource}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def corrupt(record: dict[str, Any], resource: str) -> dict[str, Any]:
    """A copy of a SCORED record with one field pushed out of range (others unchanged)."""
    if "score" not in record or resource not in CORRUPTIONS:
        return record
    field, value, _ = CORRUPTIONS[resource]
    out = dict(record)
    out["score"] = dict(record["score"], **{field: value})
    return out


def maybe_corrupt(
    record: dict[str, Any], resource: str, key: str, seed: int, rate: float
) -> dict[str, Any]:
    """Apply :func:`corrupt` when :func:`is_corrupted` says so."""
    if is_corrupted(seed, resource, key, rate):
        return corrupt(record, resource)
    return record
