"""The simulated world and the ONE DuckDB build shared by every dbt test (session fixtures;
dbt's start-up costs seconds, so tests never build per test). conftest.py exposes them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_test_support import (
    DBT_PROJECT_DIR,
    bronze_rows,
    ensure_raw_tables,
    insert_bronze_rows,
    write_ndjson_gz,
)
from sim_bronze import Batch, bronze_batches

from transformer.runner import BuildRequest, InProcessDbtRunner
from whoop_simulator.generator import DAY, SimUser, generate_user

SEED = 20250101
N_USERS = 3
START = date(2025, 1, 1)
DAYS = 365
CORRUPT_RATE = 0.03


@dataclass
class SimWorld:
    """The simulated users and the two bronze loads made from them."""

    users: list[SimUser]
    batches: list[Batch]
    corrupt_rate: float = CORRUPT_RATE


@dataclass
class BuiltWarehouse:
    """A DuckDB file after bronze load 1 → full build → bronze load 2 → incremental build."""

    path: Path
    runner: InProcessDbtRunner
    timings_s: dict[str, float] = field(default_factory=dict)
    loads: list[tuple[str, list[BronzeFileSpec]]] = field(default_factory=list)

    def query(self, sql: str) -> list[dict[str, Any]]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            cur = con.execute(sql)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture(scope="session")
def sim_world() -> SimWorld:
    users = [generate_user(SEED, i, START, DAYS) for i in range(N_USERS)]
    first: Batch = {}
    second: Batch = {}
    for user in users:
        # split in the middle of the year: later re-scores and deletes arrive incrementally
        split_ms = user.now_ms - 120 * DAY
        a, b = bronze_batches(
            user, split_ms=split_ms, as_of_ms=user.now_ms, corrupt_rate=CORRUPT_RATE
        )
        for target, part in ((first, a), (second, b)):
            for resource, by_user in part.items():
                target.setdefault(resource, {}).update(by_user)
    return SimWorld(users=users, batches=[first, second])


def _loader_warehouse(db_file: Path, data_dir: Path) -> Any | None:
    """The loader engineer's DuckDBWarehouse, or None while it has not landed."""
    try:
        from shared.adapters.warehouse.duckdb import DuckDBWarehouse
    except ImportError:
        return None
    from shared.settings import PlatformSettings

    settings = PlatformSettings(data_dir=data_dir, duckdb_path=db_file)
    warehouse = DuckDBWarehouse.from_settings(settings)
    warehouse.ensure_schema()
    return warehouse


BronzeFileSpec = tuple[str, str, Path, list[dict[str, Any]]]


def load_batch(
    db_file: Path, data_dir: Path, batch: Batch, files_dir: Path
) -> tuple[str, list[BronzeFileSpec]]:
    """Write the batch as bronze NDJSON.gz files and load them; returns (batch id, files)."""
    batch_id = uuid.uuid4().hex
    fetched_at = datetime.now(UTC)
    files: list[BronzeFileSpec] = []
    for resource, by_user in sorted(batch.items()):
        for user_id, lines in sorted(by_user.items()):
            if not lines:
                continue
            blob_path = (
                f"bronze/whoop/{resource}/user_id={user_id}/dt={fetched_at:%Y-%m-%d}/"
                f"{fetched_at:%Y%m%dT%H%M%S%f}_{batch_id[:8]}_1.ndjson.gz"
            )
            local = write_ndjson_gz(files_dir / blob_path, lines)
            files.append((resource, blob_path, local, lines))
    warehouse = _loader_warehouse(db_file, data_dir)
    if warehouse is not None:
        from shared.ports import BronzeFile

        try:
            result = warehouse.load_bronze(
                batch_id,
                [
                    BronzeFile(blob_path=bp, local_path=lp, resource=r, etag=uuid.uuid4().hex)
                    for r, bp, lp, _ in files
                ],
            )
            assert not result.quarantined, result.quarantined
        finally:
            warehouse.close()
        return batch_id, files
    # fallback until the loader's adapter exists: the same raw-table rows, inserted directly
    naive_now = fetched_at.replace(tzinfo=None)
    with duckdb.connect(str(db_file)) as con:
        ensure_raw_tables(con)
        for resource, blob_path, _, lines in files:
            insert_bronze_rows(
                con,
                resource,
                bronze_rows(resource, lines, blob_path, naive_now),
                batch_id=batch_id,
                load_ts=naive_now,
            )
    return batch_id, files


def make_runner(tmp: Path, db_file: Path, target: str = "duckdb", **env: str) -> InProcessDbtRunner:
    return InProcessDbtRunner(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=target,
        state_dir=tmp / f"dbt-{target}",
        env={"WDP_DUCKDB_FILE": str(db_file), **env},
    )


def build_or_fail(runner: InProcessDbtRunner, request: BuildRequest) -> float:
    outcome = runner.build(request)
    assert outcome.success, (outcome.error, [str(f) for f in outcome.failures])
    return outcome.elapsed_s


def built_node_ids(runner: InProcessDbtRunner) -> list[str]:
    """Every node the runner's builds ran (all of them passed: build_or_fail checks)."""
    return [node for _, outcome in runner.history for node in outcome.node_ids]


@pytest.fixture(scope="session")
def duckdb_gold(
    sim_world: SimWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltWarehouse]:
    tmp = tmp_path_factory.mktemp("dbt-duckdb")
    db_file = tmp / "warehouse.duckdb"
    runner = make_runner(tmp, db_file)
    built = BuiltWarehouse(path=db_file, runner=runner)
    started = time.perf_counter()
    built.timings_s["cold_start_parse"] = runner.warm()
    built.loads.append(load_batch(db_file, tmp, sim_world.batches[0], tmp / "lake"))
    # first build runs the dbt unit tests too (day assignment, dedupe, tombstones)
    built.timings_s["full_build_with_unit_tests"] = build_or_fail(
        runner, BuildRequest(run_unit_tests=True)
    )
    built.loads.append(load_batch(db_file, tmp, sim_world.batches[1], tmp / "lake"))
    built.timings_s["incremental_build"] = build_or_fail(runner, BuildRequest())
    built.timings_s["total"] = time.perf_counter() - started
    yield built
