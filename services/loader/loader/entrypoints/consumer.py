"""``python -m loader``: the consumer process (``storage.blob-events`` / ``loader``)."""

from __future__ import annotations

import asyncio

from loader.bootstrap import SERVICE, bootstrap
from loader.settings import LoaderSettings
from shared.logging import configure_logging
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing


async def serve() -> None:
    """Run until SIGTERM/SIGINT; the in-flight micro-batch commits and settles before exit."""
    platform = PlatformSettings()
    configure_logging(SERVICE, platform.log_level)
    configure_tracing(SERVICE, platform)
    app = await bootstrap(LoaderSettings(), platform=platform)
    runner = app.runner()
    runner.install_signal_handlers()
    try:
        await runner.run()
    finally:
        await app.close()


def main() -> None:
    """Console entry point."""
    asyncio.run(serve())
