"""The start-up and shutdown sequence every service process shares.

Each ``python -m <service>`` used to repeat the same dozen lines (settings, logging, tracing,
signal handlers, run, close); they live here once so a change to the sequence (say, a new
telemetry exporter) reaches every service and the entrypoints stay thin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.logging import configure_logging
from shared.runtime.service import ServiceRunner
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing


def configure_process(service: str) -> PlatformSettings:
    """Read the platform settings and configure logging and tracing for ``service``.

    Called first by every entrypoint (bus consumers and HTTP servers alike) so the very first
    log line is already structured and carries the service name.

    Returns:
        The platform settings, for the service's bootstrap.
    """
    platform = PlatformSettings()
    configure_logging(service, platform.log_level)
    configure_tracing(service, platform)
    return platform


async def run_service(
    runner: ServiceRunner,
    close: Callable[[], Awaitable[object]],
    *,
    start: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Run ``runner`` until SIGTERM/SIGINT, then close what the bootstrap built.

    The heartbeat and the consumers start at once; ``start`` (model load, dbt parse, a
    rescore after a crash) runs in the background, so a restarted service is healthy and
    consuming within seconds instead of after its warm-up. Handlers that need the warm state
    wait for it themselves (the dbt runner's lock, the scorer's lazy model refresh). A failing
    warm-up stops the service with that error, so the supervisor restarts it. ``close`` runs
    whatever happens, so adapters are closed on the way out.

    Args:
        runner: the service's consumers and periodic jobs.
        close: closes the adapters the bootstrap created.
        start: optional warm-up run beside the loops.
    """
    runner.install_signal_handlers()
    try:
        await runner.run(start=start)
    finally:
        await close()
