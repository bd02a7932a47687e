"""``python -m extractor``: the consumer process (four subscriptions + reconciliation)."""

from __future__ import annotations

import asyncio

from extractor.bootstrap import SERVICE, bootstrap
from extractor.settings import ExtractorSettings
from shared.runtime import configure_process, run_service


async def serve() -> None:
    """Run until SIGTERM/SIGINT; in-flight messages settle before exit."""
    platform = configure_process(SERVICE)
    app = await bootstrap(ExtractorSettings(), platform=platform)
    await run_service(app.runner(), app.close)


def main() -> None:
    """Console entry point."""
    asyncio.run(serve())
