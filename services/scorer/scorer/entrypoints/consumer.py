"""``python -m scorer``: configure logging and tracing, bootstrap, consume until SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from scorer.bootstrap import SERVICE_NAME, bootstrap
from shared.logging import configure_logging
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing

log = logging.getLogger(__name__)


async def run() -> None:
    """Run the scorer until SIGTERM/SIGINT; adapters are closed on the way out."""
    settings = PlatformSettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    configure_tracing(SERVICE_NAME, settings)
    service = bootstrap(settings)
    await service.bus.ensure_topology()
    service.runner.install_signal_handlers()
    try:
        await service.handler.start()
        await service.runner.run()
    finally:
        await service.close()


def main() -> None:
    """Console entrypoint."""
    asyncio.run(run())
