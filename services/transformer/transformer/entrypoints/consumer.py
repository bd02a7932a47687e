"""``python -m transformer``: configure logging and tracing, bootstrap, consume until SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from shared.runtime import configure_process, run_service
from transformer.bootstrap import SERVICE_NAME, bootstrap

log = logging.getLogger(__name__)


async def run() -> None:
    """Run the transformer until SIGTERM/SIGINT; adapters are closed on the way out."""
    service = bootstrap(configure_process(SERVICE_NAME))
    await service.bus.ensure_topology()

    async def warm() -> None:
        # dbt's import and first parse cost seconds: pay them before the first message waits
        warm_s = await asyncio.to_thread(service.runner.warm)
        log.info("dbt runner warm", extra={"warm_s": round(warm_s, 3)})

    await run_service(service.service_runner, service.close, start=warm)


def main() -> None:
    """Console entrypoint."""
    asyncio.run(run())
