"""The transformer's composition root: settings in, a runnable service out; nothing at import."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.composition import build_bus, build_warehouse
from shared.contracts import Topic
from shared.contracts.topics import subscription
from shared.ports import MessageBus, Warehouse
from shared.runtime import ServiceRunner
from shared.settings import PlatformSettings
from transformer.debounce import DebouncingConsumer
from transformer.handlers import TransformHandler
from transformer.metrics import TransformerMetrics
from transformer.runner import DbtRunner, InProcessDbtRunner
from transformer.settings import TransformerSettings

SERVICE_NAME = "transformer"


@dataclass
class TransformerService:
    """Everything the transformer process owns; ``close`` releases it."""

    settings: PlatformSettings
    transformer_settings: TransformerSettings
    bus: MessageBus
    warehouse: Warehouse
    runner: DbtRunner
    handler: TransformHandler
    consumer: DebouncingConsumer
    service_runner: ServiceRunner = field(repr=False)

    async def close(self) -> None:
        """Close adapters in reverse order of use."""
        self.warehouse.close()
        await self.bus.close()


def dbt_env(settings: PlatformSettings, own: TransformerSettings) -> dict[str, str]:
    """The environment ``profiles.yml`` reads, derived from validated settings."""
    env = {
        "WDP_DBT_TARGET": own.dbt_target,
        "WDP_DUCKDB_FILE": str(settings.duckdb_file.resolve()),
        "WDP_SNOWFLAKE_DATABASE": settings.snowflake_database,
    }
    if settings.snowflake_host:
        env["WDP_SNOWFLAKE_HOST"] = settings.snowflake_host
    if settings.snowflake_port:
        env["WDP_SNOWFLAKE_PORT"] = str(settings.snowflake_port)
    return env


def build_runner(settings: PlatformSettings, own: TransformerSettings) -> InProcessDbtRunner:
    """The warm in-process dbt runner, with its state under the data dir."""
    return InProcessDbtRunner(
        project_dir=own.dbt_project_dir,
        profiles_dir=own.profiles_dir,
        target=own.dbt_target,
        state_dir=settings.data_dir / "dbt",
        env=dbt_env(settings, own),
    )


def bootstrap(
    settings: PlatformSettings,
    *,
    transformer_settings: TransformerSettings | None = None,
    bus: MessageBus | None = None,
    warehouse: Warehouse | None = None,
    runner: DbtRunner | None = None,
    metrics: TransformerMetrics | None = None,
) -> TransformerService:
    """Wire the transformer from settings; tests pass fakes for any port, the runner or the
    metrics (their own meter)."""
    own = transformer_settings or TransformerSettings()
    bus = bus or build_bus(settings)
    warehouse = warehouse or build_warehouse(settings)
    runner = runner or build_runner(settings, own)
    handler = TransformHandler(
        runner,
        warehouse,
        bus,
        own,
        max_delivery_count=settings.bus_max_delivery_count,
        metrics=metrics,
    )
    sub = subscription(Topic.BRONZE_LOADED, SERVICE_NAME)
    consumer = DebouncingConsumer(
        bus,
        sub.topic,
        sub.name,
        batch_handler=handler.handle_batch,
        max_messages=own.max_messages,
        max_wait_s=own.receive_wait_s,
        lock_renew_interval_s=own.lock_renew_interval_s,
        span_name="transformer consume bronze.loaded",
        debounce_s=own.debounce_s,
    )
    service_runner = ServiceRunner(
        SERVICE_NAME,
        [consumer],
        health_dir=settings.data_dir / "health",
        periodic=[(0.5, handler.run_deferred_tests)] if own.deferred_data_tests else [],
    )
    return TransformerService(
        settings=settings,
        transformer_settings=own,
        bus=bus,
        warehouse=warehouse,
        runner=runner,
        handler=handler,
        consumer=consumer,
        service_runner=service_runner,
    )
