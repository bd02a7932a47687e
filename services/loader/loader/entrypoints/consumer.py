"""``python -m loader``: the consumer process (``storage.blob-events`` / ``loader``)."""

from __future__ import annotations

import asyncio

from loader.bootstrap import SERVICE, bootstrap
from loader.settings import LoaderSettings
from shared.runtime import configure_process, run_service


async def serve() -> None:
    """Run until SIGTERM/SIGINT; the in-flight micro-batch commits and settles before exit."""
    platform = configure_process(SERVICE)
    app = await bootstrap(LoaderSettings(), platform=platform)
    await run_service(app.runner(), app.close)


def main() -> None:
    """Console entry point."""
    asyncio.run(serve())
