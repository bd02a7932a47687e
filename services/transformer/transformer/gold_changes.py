"""Which users and local dates a batch changed in gold, read from the warehouse.

The keys come from the bronze rows of the batch (``batch_id``), so the answer is exact for
what was loaded: run once before the build (rows that a delete or a day re-assignment will
remove) and once after (rows as they are now); the union is what changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from shared.ports import Warehouse

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:\-]+$")


@dataclass
class GoldChanges:
    """Users and their local dates whose gold rows a batch touched."""

    user_dates: set[tuple[int, date]] = field(default_factory=set)

    def merge(self, other: GoldChanges) -> GoldChanges:
        return GoldChanges(self.user_dates | other.user_dates)

    @property
    def user_ids(self) -> set[int]:
        return {user for user, _ in self.user_dates}

    @property
    def dates(self) -> set[date]:
        return {day for _, day in self.user_dates}


def _in_list(batch_ids: Iterable[str]) -> str:
    ids = sorted(set(batch_ids))
    for batch_id in ids:
        # batch ids are ours (uuid hex); refuse anything else rather than quote it
        if not _SAFE_ID.match(batch_id):
            raise ValueError(f"unexpected batch id {batch_id!r}")
    return ", ".join(f"'{batch_id}'" for batch_id in ids)


def changed_rows_sql(batch_ids: Sequence[str]) -> str:
    """SQL returning ``(user_key, date_key)`` of gold rows keyed by the batches' bronze rows."""
    ids = _in_list(batch_ids)

    def keys(resource: str, extra: str = "") -> str:
        return f"select record_id from bronze.raw_{resource} where batch_id in ({ids}){extra}"

    # fact_strain names only its day's primary cycle: a change to a second cycle of the same
    # day is announced through that day's sleep or recovery, or not at all (the scorer reads
    # the user's whole history anyway).
    return f"""
select user_key, date_key from gold.fact_sleep
where sleep_id in ({keys("sleep")})
union
select user_key, date_key from gold.fact_workouts
where workout_id in ({keys("workout")})
union
select user_key, date_key from gold.fact_strain
where cast(cycle_id as varchar) in ({keys("cycle")})
union
select user_key, date_key from gold.fact_daily_recovery
where cast(cycle_id as varchar) in ({keys("recovery")})
   or sleep_id in ({keys("recovery", " and is_tombstone")})
   or sleep_id in ({keys("sleep")})
union
select strain.user_key, strain.date_key from gold.fact_strain as strain
where strain.cycle_id in (
    select cycle_id from gold.fact_sleep where sleep_id in ({keys("sleep")})
)
"""


def gold_exists(warehouse: Warehouse) -> bool:
    """Whether the gold facts exist yet (the very first build creates them)."""
    rows = warehouse.query(
        "select count(*) as n from information_schema.tables "
        "where lower(table_schema) = 'gold' and lower(table_name) in "
        "('fact_sleep', 'fact_workouts', 'fact_strain', 'fact_daily_recovery')"
    )
    return bool(rows) and int(next(iter(rows[0].values()))) == 4


def read_changes(warehouse: Warehouse, batch_ids: Sequence[str]) -> GoldChanges:
    """Gold (user, local date) pairs keyed by the batches' bronze rows; empty before gold exists."""
    if not batch_ids or not gold_exists(warehouse):
        return GoldChanges()
    rows = warehouse.query(changed_rows_sql(batch_ids))
    out = GoldChanges()
    for row in rows:
        values = {k.lower(): v for k, v in row.items()}
        date_key = int(values["date_key"])
        out.user_dates.add(
            (
                int(values["user_key"]),
                date(date_key // 10000, date_key // 100 % 100, date_key % 100),
            )
        )
    return out
