"""``python -m dashboard``: serve the dashboard with uvicorn on the settings' host/port."""

from __future__ import annotations

import uvicorn

from dashboard.app import create_app
from dashboard.bootstrap import SERVICE
from dashboard.settings import DashboardSettings
from shared.runtime import configure_process


def main() -> None:
    """Configure logging/tracing, then run uvicorn (SIGTERM → graceful shutdown)."""
    platform = configure_process(SERVICE)
    settings = DashboardSettings()
    app = create_app(settings, platform=platform)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
