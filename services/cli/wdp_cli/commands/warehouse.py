"""``wdp warehouse``: clone the warehouse for dev/CI and run ad-hoc SQL against it.

The warehouse is whatever the settings say (``WDP_WAREHOUSE=duckdb`` by default, or
``snowflake``); the commands go through the same adapters as the services, so a query against
the local DuckDB file takes the same cross-process lock as the loader and dbt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shared.settings import PlatformSettings

app = typer.Typer(
    help="Warehouse operations: zero-copy clone for dev/CI, ad-hoc queries.",
    no_args_is_help=True,
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="WDP_DATA_DIR of the local stack (default: env or .wdp)"),
]


def _settings(data_dir: Path | None) -> PlatformSettings:
    return PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()


@app.command()
def clone(
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="name of the copy: a Snowflake database name, or (DuckDB) the file stem "
            "written next to the warehouse file as <target>.duckdb",
        ),
    ],
    data_dir: DataDir = None,
) -> None:
    """Clone the warehouse: Snowflake zero-copy CLONE, or a locked file copy on DuckDB."""
    if not _NAME.fullmatch(target):
        raise typer.BadParameter("use letters, digits and underscores", param_hint="--target")
    settings = _settings(data_dir)
    if settings.warehouse == "snowflake":
        from shared.adapters.warehouse.snowflake import SnowflakeWarehouse

        wh = SnowflakeWarehouse.from_settings(settings)
        try:
            name = wh.clone_database(target)
        finally:
            wh.close()
        typer.echo(f"cloned Snowflake database {settings.snowflake_database.upper()} -> {name}")
        return
    from shared.adapters.warehouse.duckdb import DuckDBWarehouse

    duck = DuckDBWarehouse.from_settings(settings)
    copy = duck.clone_to(duck.path.with_name(f"{target}.duckdb"))
    typer.echo(f"cloned DuckDB warehouse {duck.path} -> {copy}")
    typer.echo(f"use it with WDP_DUCKDB_PATH={copy}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help='the SQL to run, e.g. "select count(*) from ..."')],
    as_json: Annotated[
        bool, typer.Option("--json", help="print rows as JSON lines instead of a table")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="rows to print at most")] = 100,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="query the writers' warehouse (bronze, silver, unaudited gold; waits for the "
            "write lock) instead of the published, audited gold readers see",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Run one SQL statement and print the rows; by default against the published version
    (audited gold and the bronze quarantine), which never waits on loads or dbt builds."""
    from shared.composition import build_reader_warehouse, build_warehouse

    settings = _settings(data_dir)
    wh = build_warehouse(settings) if live else build_reader_warehouse(settings)
    try:
        rows = wh.query(sql)
    finally:
        wh.close()
    shown = rows[:limit]
    if as_json:
        for row in shown:
            typer.echo(json.dumps(row, default=str))
    else:
        _print_table(shown)
    if len(rows) > limit:
        typer.echo(f"... {len(rows) - limit} more row(s); raise --limit to see them", err=True)


def _print_table(rows: list[dict[str, Any]]) -> None:
    console = Console()
    if not rows:
        console.print("(no rows)")
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)
