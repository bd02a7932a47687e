"""The loader's one use case: a micro-batch of BlobCreated events → raw tables → BronzeLoaded.

Exactly-once effect comes from the warehouse's load history (blob path + etag/content hash),
not from the bus: Event Grid and Service Bus deliver at least once, so a redelivered event
loads zero rows. One poll's events become ONE warehouse transaction.

Settlement (by the shared consumer): a warehouse lock timeout or an unreachable store is a
TransientError → the whole batch is abandoned and redelivered; a blob deleted before we could
download it is terminal for that FILE only (recorded as ``missing`` in the load history), so
the rest of the batch still loads and the message completes. The same holds for a file over
the input limits (``WDP_LOADER_MAX_INFLATED_BYTES`` / ``_MAX_LINE_BYTES`` / ``_MAX_LINES``):
it is quarantined with a ``too_large`` reason, and because that is in the load history a
redelivery skips it instead of inflating it again.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from loader.settings import LoaderSettings
from shared.contracts import BlobCreated, BronzeLoaded, Resource
from shared.messaging import publish_message
from shared.ports.blob import BlobNotFound, BlobStore
from shared.ports.bus import MessageBus
from shared.ports.warehouse import BronzeFile, LoadResult, Warehouse
from shared.runtime import Delivery
from shared.telemetry import tracer

log = logging.getLogger(__name__)
_tracer = tracer(__name__)

_RESOURCES = frozenset(r.value for r in Resource)


def bronze_resource(path: str, prefix: str = "bronze/whoop/") -> str | None:
    """The resource of a bronze blob path, or ``None`` when the loader must ignore the blob.

    Only ``bronze/whoop/<resource>/<at least one more segment>`` is loadable; models, health
    files and anything else in the container produce storage events too.
    """
    if not path.startswith(prefix):
        return None
    parts = path[len(prefix) :].split("/")
    if len(parts) < 2 or parts[0] not in _RESOURCES or not parts[-1]:
        return None
    return parts[0]


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Target:
    event: BlobCreated
    resource: str


class Loader:
    """Downloads the blobs of a batch, loads them in one transaction, announces the result."""

    def __init__(
        self,
        *,
        bus: MessageBus,
        blobs: BlobStore,
        warehouse: Warehouse,
        settings: LoaderSettings,
    ) -> None:
        self.bus = bus
        self.blobs = blobs
        self.warehouse = warehouse
        self.settings = settings

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """``Consumer(batch_handler=...)``: every delivery of one poll, settled together."""
        targets = self._targets(deliveries)
        if not targets:
            return
        redelivered = any(d.delivery_count > 1 for d in deliveries)
        batch_id = uuid.uuid4().hex
        with _tracer.start_as_current_span(
            "loader.load_batch", attributes={"wdp.batch_id": batch_id, "wdp.files": len(targets)}
        ):
            with tempfile.TemporaryDirectory(prefix="wdp-load-", dir=self.settings.tmp_dir) as tmp:
                files = await self._download(targets, Path(tmp))
                result = await asyncio.to_thread(
                    self.warehouse.load_bronze,
                    batch_id,
                    files,
                    limits=self.settings.input_limits(),
                )
            await self._announce(result, redelivered=redelivered)

    def _targets(self, deliveries: Sequence[Delivery]) -> list[_Target]:
        targets: list[_Target] = []
        for d in deliveries:
            event = d.payload
            if event is None:  # another storage event type (BlobDeleted...): nothing to load
                continue
            if not isinstance(event, BlobCreated):
                raise TypeError(f"loader expects BlobCreated payloads, got {type(event)!r}")
            resource = bronze_resource(event.path, self.settings.bronze_prefix)
            if resource is None or event.container != self.blobs.container:
                log.info(
                    "ignoring blob outside the bronze prefix",
                    extra={"blob_path": event.path, "container": event.container},
                )
                continue
            targets.append(_Target(event, resource))
        return targets

    async def _download(self, targets: Sequence[_Target], tmp: Path) -> list[BronzeFile]:
        """Stream each blob to a temp file (constant memory); a vanished blob stays in the batch.

        A missing blob is handed to the warehouse with a local path that does not exist, so the
        load history records it as ``missing`` in the same transaction as the rest.
        """
        gate = asyncio.Semaphore(self.settings.download_concurrency)

        async def one(i: int, target: _Target) -> BronzeFile:
            event = target.event
            suffix = "".join(PurePosixPath(event.path).suffixes[-2:])
            local = tmp / f"{i:05d}{suffix}"
            async with gate:
                try:
                    info = await self.blobs.download_to(event.path, local)
                except BlobNotFound:
                    log.warning(
                        "blob deleted before it could be loaded",
                        extra={"blob_path": event.path, "etag": event.etag},
                    )
                    return BronzeFile(
                        blob_path=event.path,
                        local_path=tmp / f"{i:05d}.missing",
                        resource=target.resource,
                        etag=event.etag or "",
                    )
            return BronzeFile(
                blob_path=event.path,
                local_path=local,
                resource=target.resource,
                etag=info.etag or event.etag or "",
                content_sha256=info.content_sha256,
                trace_id=info.metadata.get("trace_id") or None,
                fetched_at=_parse_time(info.metadata.get("fetched_at")),
            )

        return list(await asyncio.gather(*(one(i, t) for i, t in enumerate(targets))))

    async def _announce(self, result: LoadResult, *, redelivered: bool) -> None:
        """Publish BronzeLoaded when something changed, or again on a redelivered batch.

        A redelivery whose files were all loaded before means we may have crashed between the
        commit and the publish; announcing the skipped files again is harmless (the transformer
        is idempotent) and guarantees dbt eventually sees every load.
        """
        files = list(result.loaded_files)
        if redelivered:
            files += [f for f in result.skipped_files if f not in files]
        if not files and not result.quarantined:
            log.info("batch loaded nothing new", extra={"batch_id": result.batch_id})
            return
        message = BronzeLoaded(
            batch_id=result.batch_id,
            files=tuple(files),
            rows_by_resource=dict(result.rows_by_resource),
            user_ids=tuple(sorted(result.user_ids)),
            quarantined_files=tuple(sorted(result.quarantined)),
            loaded_at=datetime.now(UTC),
        )
        await publish_message(self.bus, message, message_id=result.batch_id)
        log.info(
            "published BronzeLoaded",
            extra={
                "batch_id": result.batch_id,
                "files": len(files),
                "rows": sum(result.rows_by_resource.values()),
                "quarantined": len(result.quarantined),
            },
        )
