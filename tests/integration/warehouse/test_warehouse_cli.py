"""``wdp warehouse clone`` / ``query`` against the local DuckDB warehouse in tmp_path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.ports.warehouse import BronzeFile
from wdp_cli.main import app


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DuckDBWarehouse:
    monkeypatch.delenv("WDP_DUCKDB_PATH", raising=False)
    monkeypatch.delenv("WDP_WAREHOUSE", raising=False)
    data = tmp_path / "data"
    local = tmp_path / "p.ndjson.gz"
    local.write_bytes(
        gzip.compress(
            b"\n".join(
                json.dumps({"id": i, "user_id": 5, "updated_at": "2025-03-12T04:05:51Z"}).encode()
                for i in range(3)
            )
        )
    )
    wh = DuckDBWarehouse(data / "warehouse.duckdb")
    wh.load_bronze("b1", [BronzeFile("bronze/whoop/cycle/p.ndjson.gz", local, "cycle", "0x1")])
    return wh


def test_clone_copies_the_database_and_leaves_the_source_alone(
    loaded: DuckDBWarehouse, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["warehouse", "clone", "--target", "ci_copy", "--data-dir", str(tmp_path / "data")]
    )
    assert result.exit_code == 0, result.output
    copy = DuckDBWarehouse(tmp_path / "data" / "ci_copy.duckdb")
    assert copy.query("SELECT count(*) AS n FROM bronze.raw_cycle") == [{"n": 3}]
    copy.execute("DELETE FROM bronze.raw_cycle")
    assert loaded.query("SELECT count(*) AS n FROM bronze.raw_cycle") == [{"n": 3}]


def test_clone_refuses_names_that_are_not_identifiers(
    loaded: DuckDBWarehouse, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["warehouse", "clone", "--target", "../x", "--data-dir", str(tmp_path / "data")]
    )
    assert result.exit_code != 0
    assert not (tmp_path / "x.duckdb").exists()


def test_query_prints_rows_as_json(loaded: DuckDBWarehouse, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "warehouse",
            "query",
            "SELECT record_id, line_number FROM bronze.raw_cycle ORDER BY line_number",
            "--json",
            "--limit",
            "2",
            "--live",
            "--data-dir",
            str(tmp_path / "data"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert lines == [{"record_id": "0", "line_number": 1}, {"record_id": "1", "line_number": 2}]
