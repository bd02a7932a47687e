"""``create_app``: the FastAPI app serving the JSON API (``/api/v1``) and the HTML pages.

The container is built when the app is created (not at import, not lazily per request), so an
ASGI test client works without running the lifespan; the lifespan only closes what was built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dashboard.bootstrap import bootstrap
from dashboard.domain.models import Health
from dashboard.entrypoints import api, pages
from dashboard.settings import DashboardSettings
from shared.ports import Warehouse
from shared.settings import PlatformSettings

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: DashboardSettings | None = None,
    *,
    warehouse: Warehouse | None = None,
    platform: PlatformSettings | None = None,
) -> FastAPI:
    """Build the dashboard app.

    Args:
        settings: dashboard settings (default: from ``WDP_DASHBOARD_*``).
        warehouse: a ready ``Warehouse`` (tests); default: the published, audited gold
            (``build_reader_warehouse(platform)``).
        platform: platform settings for the default warehouse (default: from ``WDP_*``).
    """
    container = bootstrap(settings, platform=platform, warehouse=warehouse)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            container.close()

    app = FastAPI(
        title="WHOOP Data Platform dashboard",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.container = container

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """Liveness: the process answers (the warehouse is checked by real requests)."""
        return Health()

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    api.install_error_handlers(app)
    return app
