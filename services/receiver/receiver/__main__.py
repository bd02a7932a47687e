"""``python -m receiver``: serve the FastAPI app with uvicorn on the settings' host/port."""

from __future__ import annotations

import uvicorn

from receiver.bootstrap import SERVICE
from receiver.entrypoints.http import create_app
from receiver.settings import ReceiverSettings
from shared.logging import configure_logging
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing


def main() -> None:
    """Configure logging/tracing, then run uvicorn (SIGTERM → graceful shutdown)."""
    platform = PlatformSettings()
    settings = ReceiverSettings()
    configure_logging(SERVICE, platform.log_level)
    configure_tracing(SERVICE, platform)
    app = create_app(settings, platform=platform)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


main()
