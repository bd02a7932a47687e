"""Member deletion in silver and gold, after the loader has emptied bronze.

The loader announces a purge on ``warehouse.bronze-loaded`` (``purged_user_ids``) only once
the member's bronze rows are gone, so no dbt build can re-derive them afterwards. The
transformer deletes the member's rows from every silver and gold table it builds and passes
the purge on in ``GoldUpdated.purged_user_ids``; ``gold.fact_predictions`` belongs to the
scorer, which deletes it on that event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from shared.contracts import GoldUpdated
from shared.messaging import publish_message
from shared.ports import MessageBus, Warehouse
from shared.warehouse_purge import delete_user_rows

log = logging.getLogger(__name__)

OWNED_SCHEMAS = ("silver", "gold")
NOT_OURS = frozenset({"fact_predictions"})  # the scorer's table
# Diagnostics that quote failing rows as text (failed data tests) rather than by user column.
SAMPLE_COLUMNS = (
    ("silver.dq_test_failures", "sample_keys"),
    ("gold.mart_data_quality", "failure_sample"),
)


def _scrub_samples(warehouse: Warehouse, user_id: int) -> None:
    """Drop failed-test samples that quote the member (false positives only lose diagnostics)."""
    member = int(user_id)
    existing = {
        f"{r['s']}.{r['t']}".lower()
        for r in warehouse.query(
            "select table_schema as s, table_name as t from information_schema.tables"
        )
    }
    with warehouse.exclusive():
        for table, column in SAMPLE_COLUMNS:
            if table in existing:
                warehouse.execute(
                    f"delete from {table} where {column} like '%{member}%'"  # noqa: S608
                )


async def purge_members(
    warehouse: Warehouse, bus: MessageBus, user_ids: Sequence[int]
) -> GoldUpdated:
    """Delete the members' silver/gold rows and announce it (idempotent on redelivery)."""
    for user_id in user_ids:
        deleted = await asyncio.to_thread(
            delete_user_rows, warehouse, user_id, OWNED_SCHEMAS, keep=NOT_OURS
        )
        await asyncio.to_thread(_scrub_samples, warehouse, user_id)
        log.info(
            "purged member from silver and gold",
            extra={"user_id": user_id, "rows": sum(deleted.values())},
        )
    event = GoldUpdated(
        run_id=f"purge-{uuid.uuid4().hex}",
        user_ids=(),
        purged_user_ids=tuple(sorted(user_ids)),
        finished_at=datetime.now(UTC),
    )
    await publish_message(bus, event)
    return event


__all__ = ["OWNED_SCHEMAS", "purge_members"]
