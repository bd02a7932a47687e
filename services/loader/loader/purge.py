"""Member deletion in bronze: the loader owns ``bronze.*``, so it deletes a member's rows there.

``UserDisconnected(purge=True)`` → every bronze table row of the member (raw records, load
history, quarantined files and lines: the paths carry ``user_id=<id>/``) → a
``BronzeLoaded`` that carries no load but ``purged_user_ids``, so the transformer deletes
silver and gold rows only *after* bronze is empty. Deleting in that order is what keeps an
incremental dbt build from re-deriving the member's rows from bronze in between.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from shared.contracts import BronzeLoaded, UserDisconnected
from shared.messaging import publish_message
from shared.ports import MessageBus, ReceivedMessage, Warehouse
from shared.warehouse_purge import delete_user_rows

log = logging.getLogger(__name__)

BRONZE_SCHEMAS = ("bronze",)


class BronzePurge:
    """Deletes a disconnected member's bronze rows and hands the purge on to the transformer."""

    def __init__(self, *, bus: MessageBus, warehouse: Warehouse, schema: str = "bronze") -> None:
        self.bus = bus
        self.warehouse = warehouse
        self.schemas = (schema,)

    async def handle_disconnected(
        self, event: UserDisconnected, message: ReceivedMessage | None = None
    ) -> None:
        """Idempotent: a redelivery deletes nothing more and announces the purge again."""
        if not event.purge:
            return
        deleted = await asyncio.to_thread(
            delete_user_rows, self.warehouse, event.user_id, self.schemas
        )
        announce = BronzeLoaded(
            batch_id=f"purge-{event.user_id}-{event.disconnected_at:%Y%m%dT%H%M%S%f}",
            files=(),
            rows_by_resource={},
            user_ids=(),
            purged_user_ids=(event.user_id,),
            loaded_at=datetime.now(UTC),
        )
        await publish_message(self.bus, announce, message_id=announce.batch_id)
        log.info(
            "purged member from bronze",
            extra={"user_id": event.user_id, "rows": sum(deleted.values())},
        )


__all__ = ["BRONZE_SCHEMAS", "BronzePurge"]
