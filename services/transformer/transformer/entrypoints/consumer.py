"""``python -m transformer``: configure logging and tracing, bootstrap, consume until SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from shared.logging import configure_logging
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing
from transformer.bootstrap import SERVICE_NAME, bootstrap

log = logging.getLogger(__name__)


async def run() -> None:
    """Run the transformer until SIGTERM/SIGINT; adapters are closed on the way out."""
    settings = PlatformSettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    configure_tracing(SERVICE_NAME, settings)
    service = bootstrap(settings)
    await service.bus.ensure_topology()
    service.service_runner.install_signal_handlers()
    # dbt's import and first parse cost seconds: pay them before the first message waits
    warm_s = await asyncio.to_thread(service.runner.warm)
    log.info("dbt runner warm", extra={"warm_s": round(warm_s, 3)})
    try:
        await service.service_runner.run()
    finally:
        await service.close()


def main() -> None:
    """Console entrypoint."""
    asyncio.run(run())
