"""``python -m extractor``: the consumer process (four subscriptions + reconciliation)."""

from __future__ import annotations

import asyncio

from extractor.bootstrap import SERVICE, bootstrap
from extractor.settings import ExtractorSettings
from shared.logging import configure_logging
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing


async def serve() -> None:
    """Run until SIGTERM/SIGINT; in-flight messages settle before exit."""
    platform = PlatformSettings()
    configure_logging(SERVICE, platform.log_level)
    configure_tracing(SERVICE, platform)
    app = await bootstrap(ExtractorSettings(), platform=platform)
    runner = app.runner()
    runner.install_signal_handlers()
    try:
        await runner.run()
    finally:
        await app.close()


def main() -> None:
    """Console entry point."""
    asyncio.run(serve())
