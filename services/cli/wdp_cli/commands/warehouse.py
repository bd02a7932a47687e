"""``wdp warehouse``: clone the warehouse for dev/CI and run ad-hoc SQL against it.

The warehouse is whatever the settings say (``WDP_WAREHOUSE=duckdb`` by default, or
``snowflake``); the commands go through the same adapters as the services, so a query against
the local DuckDB file takes the same cross-process lock as the loader and dbt.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shared.ports.warehouse import BronzeFile
from shared.settings import PlatformSettings

if TYPE_CHECKING:
    from transformer.runner import BuildOutcome

app = typer.Typer(
    help="Warehouse operations: zero-copy clone for dev/CI, ad-hoc queries, restore drill.",
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


#: Files per ``load_bronze`` call: one transaction each, so a drill over years of bronze
#: holds a bounded number of temp files on disk at once and its progress is visible.
REBUILD_BATCH_FILES = 500


@app.command()
def rebuild(
    target: Annotated[
        Path | None,
        typer.Option(
            "--target",
            help="DuckDB file to build; must not exist "
            "(default <data_dir>/rebuild-<utc ts>.duckdb)",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Restore drill: rebuild bronze, silver and gold in a NEW warehouse from the bronze blobs.

    Bronze blobs are the system of record; every layer above them is derived. This proves it:
    every blob under the bronze prefix is loaded with the loader's own adapter call
    (``Warehouse.load_bronze``), then dbt builds the whole project, into a file the live
    services never open, so the drill can run beside them. Predictions are not rebuilt (they
    need the model artefacts and the scorer), and the rebuilt file is not published.
    """
    settings = _settings(data_dir)
    if settings.warehouse != "duckdb":
        raise typer.BadParameter(
            "only the DuckDB warehouse can be rebuilt locally; on Snowflake use "
            "`wdp warehouse clone` and time travel",
            param_hint="WDP_WAREHOUSE",
        )
    if target is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = settings.data_dir / f"rebuild-{stamp}.duckdb"
    target = target.resolve()
    if target.exists() or target == settings.duckdb_file.resolve():
        raise typer.BadParameter(f"{target} exists; the drill never overwrites a warehouse")
    target.parent.mkdir(parents=True, exist_ok=True)

    files, rows = asyncio.run(_load_bronze_blobs(settings, target))
    typer.echo(f"loaded {files} bronze blob(s), {rows} row(s) into {target}")
    outcome = _build_all_layers(settings, target)
    _print_layer_counts(target)
    if not outcome.success:
        for failure in outcome.failures:
            typer.echo(f"dbt: {failure}", err=True)
        if outcome.error:
            typer.echo(f"dbt: {outcome.error}", err=True)
        typer.echo("rebuild FAILED: dbt build did not succeed", err=True)
        raise typer.Exit(1)
    typer.echo("predictions are not rebuilt: score the rebuilt gold with the scorer")
    typer.echo(f"rebuilt warehouse: {target} (use it with WDP_DUCKDB_PATH={target})")


async def _load_bronze_blobs(settings: PlatformSettings, target: Path) -> tuple[int, int]:
    """Download every bronze blob and load it into ``target`` as the loader would.

    Blobs are loaded oldest first (then by path), the order events reached the loader, so
    the load history and line order match a live load as closely as a listing allows.
    Returns (files loaded, rows loaded).
    """
    from loader.handlers import bronze_resource
    from loader.settings import LoaderSettings
    from shared.adapters.warehouse.duckdb import DuckDBWarehouse
    from shared.composition import build_blob_store

    own = LoaderSettings()
    store = build_blob_store(settings)
    warehouse = DuckDBWarehouse(target)
    try:
        warehouse.ensure_schema()
        blobs = [
            (info, resource)
            async for info in store.list(own.bronze_prefix)
            if (resource := bronze_resource(info.path, own.bronze_prefix)) is not None
        ]
        blobs.sort(key=lambda b: (b[0].last_modified, b[0].path))
        files = rows = 0
        for start in range(0, len(blobs), REBUILD_BATCH_FILES):
            batch = blobs[start : start + REBUILD_BATCH_FILES]
            with tempfile.TemporaryDirectory(prefix="wdp-rebuild-", dir=own.tmp_dir) as tmp:
                local_files = []
                for i, (info, resource) in enumerate(batch):
                    suffix = "".join(PurePosixPath(info.path).suffixes[-2:])
                    local = Path(tmp) / f"{i:05d}{suffix}"
                    got = await store.download_to(info.path, local)
                    local_files.append(
                        BronzeFile(
                            blob_path=info.path,
                            local_path=local,
                            resource=resource,
                            etag=got.etag or info.etag or "",
                            content_sha256=got.content_sha256,
                            trace_id=got.metadata.get("trace_id") or None,
                            fetched_at=_parse_time(got.metadata.get("fetched_at")),
                        )
                    )
                result = warehouse.load_bronze(
                    uuid.uuid4().hex, local_files, limits=own.input_limits()
                )
            files += len(result.loaded_files)
            rows += sum(result.rows_by_resource.values())
        return files, rows
    finally:
        warehouse.close()
        await store.close()


def _parse_time(value: str | None) -> datetime | None:
    """Blob metadata ``fetched_at`` as an aware datetime, as the loader reads it."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _build_all_layers(settings: PlatformSettings, target: Path) -> BuildOutcome:
    """One full ``dbt build`` (models and data tests) against ``target``.

    dbt's state goes to a throwaway directory, not the live transformer's, so the drill never
    disturbs the transformer's partial-parse cache.
    """
    from transformer.bootstrap import dbt_env
    from transformer.runner import BuildRequest, InProcessDbtRunner
    from transformer.settings import TransformerSettings

    own = TransformerSettings()
    rebuilt = settings.model_copy(update={"duckdb_path": target})
    with tempfile.TemporaryDirectory(prefix="wdp-rebuild-dbt-") as state:
        runner = InProcessDbtRunner(
            project_dir=own.dbt_project_dir,
            profiles_dir=own.profiles_dir,
            target=own.dbt_target,
            state_dir=Path(state),
            env=dbt_env(rebuilt, own),
        )
        return runner.build(BuildRequest(full_refresh=True))


def _print_layer_counts(target: Path) -> None:
    """Rows per table of bronze, silver and gold, so the operator sees what came back."""
    from shared.adapters.warehouse.duckdb import DuckDBWarehouse

    warehouse = DuckDBWarehouse(target)
    try:
        tables = warehouse.query(
            "select table_schema as s, table_name as t from information_schema.tables "
            "where table_schema in ('bronze', 'silver', 'gold') and table_type = 'BASE TABLE' "
            "order by 1, 2"
        )
        counts = [
            {
                "layer": row["s"],
                "table": row["t"],
                "rows": warehouse.query(f'select count(*) as n from "{row["s"]}"."{row["t"]}"')[0][
                    "n"
                ],
            }
            for row in tables
        ]
    finally:
        warehouse.close()
    _print_table(counts)
