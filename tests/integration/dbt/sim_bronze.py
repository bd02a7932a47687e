"""Bronze lines for simulated users, exactly as the extractor would have written them.

Each record timeline of the generator becomes one bronze line per version (re-scores included)
and, when the record was deleted, one tombstone line of our own shape (docs/data-model.md).
Lines are split into two loads at ``split_ms`` so the second dbt build is incremental and has
to propagate re-scores and deletes that arrive after the first.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from whoop_simulator.corruption import maybe_corrupt
from whoop_simulator.generator import SimUser
from whoop_simulator.timeutil import iso_ms

KEY_FIELD = {"cycle": "id", "sleep": "id", "workout": "id", "recovery": "sleep_id"}

# resource -> user_id -> lines
Batch = dict[str, dict[int, list[dict[str, Any]]]]


def _tombstone(resource: str, key: str, user_id: int, deleted_ms: int) -> dict[str, Any]:
    return {
        "wdp_tombstone": True,
        "resource": resource,
        "key_field": KEY_FIELD[resource],
        "key": key,
        "user_id": user_id,
        "deleted_at": iso_ms(deleted_ms),
        "source": "webhook",
    }


def bronze_batches(
    user: SimUser, *, split_ms: int, as_of_ms: int, corrupt_rate: float = 0.0
) -> tuple[Batch, Batch]:
    """(first load, second load): lines visible before ``split_ms``, then up to ``as_of_ms``."""
    first: Batch = defaultdict(lambda: defaultdict(list))
    second: Batch = defaultdict(lambda: defaultdict(list))
    for resource, timelines in user.timelines.items():
        for tl in timelines:
            for version in tl.versions:
                if version.visible_ms > as_of_ms:
                    continue
                target = first if version.visible_ms < split_ms else second
                rec = maybe_corrupt(version.record, resource, tl.key, user.seed, corrupt_rate)
                target[resource][user.user_id].append(rec)
            if tl.deleted_ms is not None and tl.deleted_ms <= as_of_ms:
                key = tl.webhook_id if resource == "recovery" else tl.key
                assert key is not None
                target = first if tl.deleted_ms < split_ms else second
                target[resource][user.user_id].append(
                    _tombstone(resource, key, user.user_id, tl.deleted_ms)
                )
    first["profile"][user.user_id].append(dict(user.profile))
    if user.body is not None:
        first["body_measurement"][user.user_id].append({**user.body, "user_id": user.user_id})
    return first, second
