"""The loader's composition root: settings → adapters → :class:`Loader` → consumer → runner.

Nothing connects at import. Tests call :func:`bootstrap` with fakes or local adapters in a
temp dir; the process entry point calls it with settings from the environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from loader.handlers import Loader
from loader.purge import BronzePurge
from loader.settings import LoaderSettings
from shared.adapters.blob.events import decode_blob_event
from shared.composition import (
    build_warehouse,
    close_owned,
    own_blob_store,
    own_bus,
)
from shared.contracts import Topic
from shared.ports import BlobStore, MessageBus, Warehouse
from shared.runtime import Consumer, ServiceRunner
from shared.settings import PlatformSettings

SERVICE = "loader"


@dataclass
class LoaderApp:
    """Everything a running loader holds; ``close()`` releases what bootstrap created."""

    loader: Loader
    purge: BronzePurge
    bus: MessageBus
    blobs: BlobStore
    warehouse: Warehouse
    platform: PlatformSettings
    settings: LoaderSettings
    _owned: list[Callable[[], object]] = field(default_factory=list)

    def consumer(self) -> Consumer:
        """Micro-batching consumer: up to ``max_batch_size`` events per poll, one transaction;
        ``concurrency`` batches in flight (their warehouse commits still take turns)."""
        return Consumer(
            self.bus,
            Topic.BLOB_EVENTS,
            SERVICE,
            batch_handler=self.loader.handle_batch,
            decoder=decode_blob_event,
            max_messages=self.settings.max_batch_size,
            max_wait_s=self.settings.max_wait_s,
            concurrency=self.settings.concurrency,
            lock_renew_interval_s=max(1.0, self.platform.bus_lock_duration_s / 3),
            span_name="loader consume storage.blob-events",
        )

    def purge_consumer(self) -> Consumer:
        """``whoop.user-disconnected``: delete a purged member's bronze rows."""
        return Consumer(
            self.bus, Topic.USER_DISCONNECTED, SERVICE, handler=self.purge.handle_disconnected
        )

    def runner(self) -> ServiceRunner:
        """The service process: the load and purge consumers plus the heartbeat file."""
        return ServiceRunner(
            SERVICE,
            [self.consumer(), self.purge_consumer()],
            health_dir=self.platform.data_dir / "health",
        )

    async def close(self) -> None:
        """Close what bootstrap created (not what the caller passed in)."""
        await close_owned(self._owned)


async def bootstrap(
    settings: LoaderSettings | None = None,
    *,
    platform: PlatformSettings | None = None,
    bus: MessageBus | None = None,
    blobs: BlobStore | None = None,
    warehouse: Warehouse | None = None,
) -> LoaderApp:
    """Build the loader; any port can be overridden (tests, the CLI).

    The warehouse schema is ensured here, once per process, so the first batch does not pay
    for DDL and a misconfigured warehouse fails at start-up rather than on the first event.
    """
    settings = settings or LoaderSettings()
    platform = platform or PlatformSettings()
    owned: list[Callable[[], object]] = []
    bus = await own_bus(bus, platform, owned)
    blobs = own_blob_store(blobs, platform, owned, bus=None)  # the loader writes no blobs
    if warehouse is None:
        warehouse = build_warehouse(platform)
        owned.append(warehouse.close)
    await asyncio.to_thread(warehouse.ensure_schema)
    loader = Loader(bus=bus, blobs=blobs, warehouse=warehouse, settings=settings)
    purge = BronzePurge(bus=bus, warehouse=warehouse)
    return LoaderApp(loader, purge, bus, blobs, warehouse, platform, settings, owned)
