"""``python -m receiver``: serve the FastAPI app with uvicorn on the settings' host/port."""

from __future__ import annotations

import uvicorn

from receiver.bootstrap import SERVICE
from receiver.entrypoints.http import create_app
from receiver.settings import ReceiverSettings
from shared.runtime import configure_process


def main() -> None:
    """Configure logging/tracing, then run uvicorn (SIGTERM → graceful shutdown)."""
    platform = configure_process(SERVICE)
    settings = ReceiverSettings()
    app = create_app(settings, platform=platform)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


main()
