"""``wdp dashboard``: serve the read-only web dashboard over the gold layer."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The web dashboard (recovery, sleep, workouts, trends, DQ).")


@app.callback(no_args_is_help=True)
def main() -> None:
    """Read-only dashboard over gold: pages for people, /api/v1 JSON for scripts."""


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: settings).")] = None,
    port: Annotated[
        int | None, typer.Option(help="TCP port (default: WDP_DASHBOARD_PORT or 8090).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="WDP_DATA_DIR holding the DuckDB warehouse.")
    ] = None,
) -> None:
    """Serve the dashboard with uvicorn.

    Keys come from WDP_DASHBOARD_API_KEYS. In the dev environment with no key configured a
    one-off admin key is generated and shown here once (it is not stored or logged).
    """
    import uvicorn

    from dashboard.app import create_app
    from dashboard.bootstrap import SERVICE
    from dashboard.settings import DashboardSettings
    from shared.logging import configure_logging
    from shared.settings import PlatformSettings

    platform = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
    settings = DashboardSettings()
    updates: dict[str, object] = {}
    if host is not None:
        updates["host"] = host
    if port is not None:
        updates["port"] = port
    one_off: str | None = None
    if not settings.api_keys and settings.environment == "dev":
        one_off = secrets.token_urlsafe(24)
        updates["api_keys"] = {one_off: "admin"}
    settings = settings.model_copy(update=updates)
    configure_logging(SERVICE, platform.log_level)
    app_ = create_app(settings, platform=platform)
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(f"WHOOP dashboard on {url} (warehouse: {platform.warehouse})")
    if one_off is not None:
        typer.echo(f"No WDP_DASHBOARD_API_KEYS set: one-off admin key for this run: {one_off}")
        typer.echo(f"Sign in at {url}/login")
    uvicorn.run(app_, host=settings.host, port=settings.port, log_config=None, access_log=False)


@app.command("export-csv")
def export_csv(
    out: Annotated[Path, typer.Option(help="Folder for <table>.csv files (created).")],
    user: Annotated[
        list[int] | None, typer.Option(help="Only this WHOOP user id (repeatable).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="WDP_DATA_DIR holding the DuckDB warehouse.")
    ] = None,
) -> None:
    """Export the gold tables as CSV for the Power BI project's CSV data source."""
    from dashboard.export import export_gold_csv
    from dashboard.settings import DashboardSettings
    from shared.composition import build_reader_warehouse
    from shared.settings import PlatformSettings

    platform = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
    warehouse = build_reader_warehouse(platform)
    try:
        written = export_gold_csv(
            warehouse, out, gold_schema=DashboardSettings().gold_schema, user_ids=user or None
        )
    finally:
        warehouse.close()
    for table, rows in written.items():
        typer.echo(f"{table}: {rows} rows")
    if not written:
        typer.echo("No gold table exists yet: run the pipeline (wdp demo) first.")
