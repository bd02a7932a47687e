"""The Snowflake path: the same bronze files, loaded by the loader's SnowflakeWarehouse into a
fakesnow server and built with dbt-snowflake (target ``fakesnow``), give the same gold as
DuckDB. Also: ``dbt parse`` for the real Snowflake target (no connection needed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from dbt_world import BuiltWarehouse, build_or_fail, make_runner
from gold_compare import LOAD_COLUMNS, PRIMARY_KEYS, SPEC_COLUMNS, diff_rows

from shared.ports import BronzeFile
from transformer.runner import BuildRequest, InProcessDbtRunner

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fakesnow_gold(
    duckdb_gold: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    from fakesnow_server import start_fakesnow

    from shared.adapters.warehouse.snowflake import SnowflakeWarehouse

    tmp = tmp_path_factory.mktemp("dbt-fakesnow")
    proc, server = start_fakesnow(tmp / "db")
    try:
        warehouse = SnowflakeWarehouse(
            server.connect_kwargs(), database="WHOOP", schema="BRONZE", create_database=True
        )
        warehouse.ensure_schema()
        for batch_id, files in duckdb_gold.loads:
            result = warehouse.load_bronze(
                batch_id,
                [
                    BronzeFile(blob_path=bp, local_path=lp, resource=r, etag=uuid.uuid4().hex)
                    for r, bp, lp, _ in files
                ],
            )
            assert not result.quarantined, result.quarantined
        runner = make_runner(
            tmp,
            tmp / "unused.duckdb",
            target="fakesnow",
            WDP_SNOWFLAKE_HOST=server.host,
            WDP_SNOWFLAKE_PORT=str(server.port),
            WDP_SNOWFLAKE_DATABASE="WHOOP",
        )
        # unit tests already ran on DuckDB; this build proves the Snowflake SQL and contracts
        duckdb_gold.timings_s["fakesnow_full_build"] = build_or_fail(runner, BuildRequest())
        yield warehouse
        warehouse.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# fakesnow 0.12 serialises a NULL timestamp as 0 on the wire: the table holds NULL (is_open
# agrees, and `end_at_utc::varchar` reads back NULL) but the connector shows the epoch.
_FAKESNOW_NULL_TS = datetime(1970, 1, 1)


def _normalise(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        k.lower(): None if isinstance(v, datetime) and v == _FAKESNOW_NULL_TS else v
        for k, v in row.items()
    }
    if isinstance(out.get("zone_duration_minutes"), str):
        out["zone_duration_minutes"] = json.loads(out["zone_duration_minutes"])
    return out


@pytest.mark.parametrize("table", sorted(PRIMARY_KEYS))
def test_fakesnow_gold_equals_duckdb_gold(
    table: str, fakesnow_gold: Any, duckdb_gold: BuiltWarehouse
) -> None:
    snow = [_normalise(r) for r in fakesnow_gold.query(f"select * from WHOOP.GOLD.{table}")]
    duck = duckdb_gold.query(f"select * from gold.{table}")
    assert duck
    assert diff_rows(table, snow, duck, ignore=LOAD_COLUMNS) == []


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_fakesnow_gold_has_every_specified_column(table: str, fakesnow_gold: Any) -> None:
    rows = fakesnow_gold.query(
        "select column_name from information_schema.columns "
        f"where lower(table_schema) = 'gold' and lower(table_name) = '{table}'"
    )
    got = {str(next(iter(r.values()))).lower() for r in rows}
    assert set(SPEC_COLUMNS[table]) - got == set()


def test_fakesnow_surrogate_keys_equal_duckdb(
    fakesnow_gold: Any, duckdb_gold: BuiltWarehouse
) -> None:
    """md5 of the same natural key: the same lowercase hex on both engines."""
    for table, key in (("fact_daily_recovery", "recovery_id"), ("fact_strain", "strain_id")):
        snow = {
            str(next(iter(r.values())))
            for r in fakesnow_gold.query(f"select {key} from WHOOP.GOLD.{table}")
        }
        duck = {r[key] for r in duckdb_gold.query(f"select {key} from gold.{table}")}
        assert snow == duck and duck


def test_dbt_parse_for_real_snowflake_target(tmp_path: Path) -> None:
    runner: InProcessDbtRunner = make_runner(tmp_path, tmp_path / "x.duckdb", target="snowflake")
    # BI views are built by their own step once gold is published (docs/warehouse.md)
    result = runner.invoke(["parse", "--vars", "{wdp_bi_views: true}"])
    assert result.success, result.exception
    manifest = result.result
    bi_views = [n for n in manifest.nodes.values() if n.name.startswith("bi_")]
    assert bi_views and all(n.config.enabled for n in bi_views)
    assert all(n.config.get("secure") for n in bi_views)
