"""The scorer's composition root: settings in, a runnable service out; nothing runs at import."""

from __future__ import annotations

from dataclasses import dataclass, field

from scorer.handlers import ScoreHandler
from scorer.repository import PredictionRepository
from scorer.settings import ScorerSettings
from shared.composition import build_blob_store, build_bus, build_warehouse
from shared.contracts import Topic
from shared.contracts.topics import subscription
from shared.ports import BlobStore, MessageBus, Warehouse
from shared.runtime import Consumer, ServiceRunner
from shared.settings import PlatformSettings

SERVICE_NAME = "scorer"


@dataclass
class ScorerService:
    """Everything the scorer process owns; ``close`` releases it."""

    settings: PlatformSettings
    scorer_settings: ScorerSettings
    bus: MessageBus
    warehouse: Warehouse
    blobs: BlobStore
    handler: ScoreHandler
    consumer: Consumer
    runner: ServiceRunner = field(repr=False)

    async def close(self) -> None:
        """Close adapters in reverse order of use."""
        await self.blobs.close()
        self.warehouse.close()
        await self.bus.close()


def bootstrap(
    settings: PlatformSettings,
    *,
    scorer_settings: ScorerSettings | None = None,
    bus: MessageBus | None = None,
    warehouse: Warehouse | None = None,
    blobs: BlobStore | None = None,
) -> ScorerService:
    """Wire the scorer from settings; tests pass fakes for any port.

    The blob store is built without a bus on purpose: model artefacts are not bronze and must
    not raise BlobCreated events for the loader.
    """
    own = scorer_settings or ScorerSettings()
    bus = bus or build_bus(settings)
    warehouse = warehouse or build_warehouse(settings)
    blobs = blobs or build_blob_store(settings, bus=None)
    handler = ScoreHandler(PredictionRepository(warehouse), blobs, bus, own)
    sub = subscription(Topic.GOLD_UPDATED, SERVICE_NAME)
    consumer = Consumer(
        bus,
        sub.topic,
        sub.name,
        batch_handler=handler.handle_batch,
        max_messages=own.max_messages,
        max_wait_s=own.max_wait_s,
        lock_renew_interval_s=own.lock_renew_interval_s,
        span_name="scorer consume gold.updated",
    )
    runner = ServiceRunner(
        SERVICE_NAME,
        [consumer],
        health_dir=settings.data_dir / "health",
        periodic=[(own.artefact_refresh_s, handler.refresh_model_now)],
    )
    return ScorerService(
        settings=settings,
        scorer_settings=own,
        bus=bus,
        warehouse=warehouse,
        blobs=blobs,
        handler=handler,
        consumer=consumer,
        runner=runner,
    )
