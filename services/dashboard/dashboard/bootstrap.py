"""The dashboard's composition root: settings → warehouse (via the port) → service.

Only :func:`shared.composition.build_reader_warehouse` chooses DuckDB or Snowflake (the
published, audited version, which never waits on writers); tests pass a fake or a tmp-path
DuckDB warehouse instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dashboard.auth import ApiKeyAuthenticator
from dashboard.handlers import DashboardService
from dashboard.repository import GoldReader
from dashboard.settings import DashboardSettings
from shared.composition import build_reader_warehouse
from shared.ports import Warehouse
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

SERVICE = "dashboard"


@dataclass
class DashboardContainer:
    """What the routes need (kept on ``app.state.container``)."""

    settings: DashboardSettings
    warehouse: Warehouse
    service: DashboardService
    auth: ApiKeyAuthenticator
    owns_warehouse: bool

    def close(self) -> None:
        """Close the warehouse if bootstrap created it (never one the caller passed in)."""
        if self.owns_warehouse:
            self.warehouse.close()


def bootstrap(
    settings: DashboardSettings | None = None,
    *,
    platform: PlatformSettings | None = None,
    warehouse: Warehouse | None = None,
) -> DashboardContainer:
    """Wire the service; reads the environment only when settings are not given."""
    settings = settings or DashboardSettings()
    owns = warehouse is None
    if warehouse is None:
        warehouse = build_reader_warehouse(platform or PlatformSettings())
    reader = GoldReader(
        warehouse, gold_schema=settings.gold_schema, bronze_schema=settings.bronze_schema
    )
    if not settings.api_keys:
        log.warning("no dashboard API keys configured: every request will be refused")
    return DashboardContainer(
        settings=settings,
        warehouse=warehouse,
        service=DashboardService(reader, settings),
        auth=ApiKeyAuthenticator(settings.api_keys),
        owns_warehouse=owns,
    )
