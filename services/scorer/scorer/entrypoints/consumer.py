"""``python -m scorer``: configure logging and tracing, bootstrap, consume until SIGTERM."""

from __future__ import annotations

import asyncio

from scorer.bootstrap import SERVICE_NAME, bootstrap
from shared.runtime import configure_process, run_service


async def run() -> None:
    """Run the scorer until SIGTERM/SIGINT; adapters are closed on the way out."""
    service = bootstrap(configure_process(SERVICE_NAME))
    await service.bus.ensure_topology()
    await run_service(service.runner, service.close, start=service.handler.start)


def main() -> None:
    """Console entrypoint."""
    asyncio.run(run())
