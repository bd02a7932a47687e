"""One contract for every Warehouse adapter: DuckDB (file in tmp_path) and Snowflake on fakesnow.

The same bronze files must give the same raw rows, the same quarantine and the same load
history on both; each test states the expected rows once, so the adapters are compared through
the contract rather than against each other.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.warehouse.bronze import WarehouseLockTimeout
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.adapters.warehouse.snowflake import SnowflakeWarehouse
from shared.ports.warehouse import BronzeFile, Warehouse
from tests.fakesnow_server import FakesnowServer

FETCHED = datetime(2025, 3, 12, 6, 0, 0, tzinfo=UTC)

CYCLE = {
    "id": 1187654321,
    "user_id": 24601,
    "created_at": "2025-03-11T12:20:04.918Z",
    "updated_at": "2025-03-12T04:05:51.207Z",
    "start": "2025-03-11T04:12:33.120Z",
    "end": "2025-03-12T03:58:10.480Z",
    "timezone_offset": "-07:00",
    "score_state": "SCORED",
    "score": {"strain": 11.873412, "kilojoule": 9834.5, "average_heart_rate": 71},
}
SLEEP = {
    "id": "3f1c2a9e-7b44-4d0e-9a51-2c8e6f0b7d13",
    "cycle_id": 1187654321,
    "user_id": 24601,
    "updated_at": "2025-03-11T12:31:40.662Z",
    "start": "2025-03-11T04:12:33.120Z",
    "end": "2025-03-11T12:12:33.120Z",
    "timezone_offset": "-07:00",
    "nap": False,
    "score_state": "SCORED",
}
RECOVERY = {
    "cycle_id": 1187654321,
    "sleep_id": "3f1c2a9e-7b44-4d0e-9a51-2c8e6f0b7d13",
    "user_id": 24601,
    "updated_at": "2025-03-11T12:31:41.090Z",
    "score_state": "SCORED",
    "score": {"recovery_score": 67.0, "hrv_rmssd_milli": 58.41192},
}
WORKOUT = {
    "id": "a7d2e6c0-51f3-4c2b-8e9d-0f6b3a4c1e27",
    "user_id": 24601,
    "updated_at": "2025-03-11T16:27:03.015Z",
    "sport_name": "running",
    "score_state": "PENDING_SCORE",
}
PROFILE = {"user_id": 24601, "email": "r.okafor@example.com", "first_name": "Rosa"}
BODY = {"height_meter": 1.7272, "weight_kilogram": 68.9, "max_heart_rate": 191, "user_id": 24601}
TOMBSTONE = {
    "wdp_tombstone": True,
    "resource": "recovery",
    "key_field": "sleep_id",
    "key": "ecfc6a15-4661-442f-a9a4-f160dd7afae8",
    "user_id": 10129,
    "deleted_at": "2025-03-12T04:05:51.207Z",
    "source": "webhook",
}


@pytest.fixture(params=["duckdb", "snowflake"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh, empty warehouse per test (own DuckDB file / own fakesnow database)."""
    wh: Warehouse
    if request.param == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    else:
        server: FakesnowServer = request.getfixturevalue("fakesnow_server")
        wh = SnowflakeWarehouse(
            server.connect_kwargs(),
            database=f"T{uuid.uuid4().hex[:12]}",
            create_database=True,
        )
    wh.ensure_schema()
    try:
        yield wh
    finally:
        wh.close()


def write_bronze(path: Path, lines: list[str], *, gz: bool = True) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def bronze(
    tmp_path: Path,
    resource: str,
    records: list[Any],
    *,
    name: str = "p1",
    gz: bool = True,
    etag: str | None = None,
) -> BronzeFile:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    suffix = ".ndjson.gz" if gz else ".ndjson"
    local = write_bronze(tmp_path / f"{resource}-{name}{suffix}", lines, gz=gz)
    return BronzeFile(
        blob_path=f"bronze/whoop/{resource}/user_id=24601/dt=2025-03-12/{name}{suffix}",
        local_path=local,
        resource=resource,
        etag=etag or f"0x{uuid.uuid4().hex[:8]}",
        content_sha256=None,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        fetched_at=FETCHED,
    )


def rows(
    wh: Warehouse, table: str, order: str = "source_file, line_number"
) -> list[dict[str, Any]]:
    return wh.query(f"SELECT * FROM bronze.{table} ORDER BY {order}")


def test_each_resource_lands_with_derived_columns(warehouse: Warehouse, tmp_path: Path) -> None:
    files = [
        bronze(tmp_path, "cycle", [CYCLE]),
        bronze(tmp_path, "sleep", [SLEEP], gz=False),
        bronze(tmp_path, "recovery", [RECOVERY]),
        bronze(tmp_path, "workout", [WORKOUT], gz=False),
        bronze(tmp_path, "profile", [PROFILE]),
        bronze(tmp_path, "body_measurement", [BODY]),
    ]
    result = warehouse.load_bronze("batch-1", files)

    assert sorted(result.loaded_files) == sorted(f.blob_path for f in files)
    assert result.rows_by_resource == {
        "cycle": 1,
        "sleep": 1,
        "recovery": 1,
        "workout": 1,
        "profile": 1,
        "body_measurement": 1,
    }
    assert result.user_ids == {24601}
    expected = {
        "cycle": ("1187654321", datetime(2025, 3, 12, 4, 5, 51, 207000), CYCLE),
        "sleep": (SLEEP["id"], datetime(2025, 3, 11, 12, 31, 40, 662000), SLEEP),
        "recovery": ("1187654321", datetime(2025, 3, 11, 12, 31, 41, 90000), RECOVERY),
        "workout": (WORKOUT["id"], datetime(2025, 3, 11, 16, 27, 3, 15000), WORKOUT),
        "profile": ("24601", FETCHED.replace(tzinfo=None), PROFILE),
        "body_measurement": ("24601", FETCHED.replace(tzinfo=None), BODY),
    }
    for f in files:
        (row,) = rows(warehouse, f"raw_{f.resource}")
        record_id, updated_at, payload = expected[f.resource]
        assert row["record_id"] == record_id
        assert row["user_id"] == 24601
        assert row["updated_at"] == updated_at
        assert row["is_tombstone"] is False
        assert row["tombstone_key_field"] is None
        assert json.loads(row["payload"]) == payload
        assert row["source_file"] == f.blob_path
        assert row["line_number"] == 1
        assert row["batch_id"] == "batch-1"
        assert row["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert isinstance(row["load_timestamp"], datetime)


def test_reload_loads_zero_rows(warehouse: Warehouse, tmp_path: Path) -> None:
    page = [dict(CYCLE, id=i) for i in range(25)]
    f = bronze(tmp_path, "cycle", page, etag="0xAAA")
    first = warehouse.load_bronze("b1", [f, f])  # the same event twice in one batch
    again = warehouse.load_bronze("b2", [f])
    same_bytes_new_etag = BronzeFile(**{**f.__dict__, "etag": "0xBBB", "content_sha256": "abc"})
    warehouse.load_bronze("b3", [same_bytes_new_etag])
    by_hash = BronzeFile(**{**f.__dict__, "etag": "0xCCC", "content_sha256": "abc"})
    fourth = warehouse.load_bronze("b4", [by_hash])

    assert first.rows_by_resource == {"cycle": 25}
    assert again.rows_by_resource == {} and again.skipped_files == [f.blob_path]
    assert fourth.skipped_files == [f.blob_path]
    # b3 was a genuinely new version (new etag, unknown hash): it loads, and that is harmless
    assert len(rows(warehouse, "raw_cycle")) == 50
    history = rows(warehouse, "load_history", "batch_id")
    assert [(h["batch_id"], h["rows"], h["status"]) for h in history] == [
        ("b1", 25, "loaded"),
        ("b3", 25, "loaded"),
    ]


def test_bad_lines_are_quarantined_with_reason(warehouse: Warehouse, tmp_path: Path) -> None:
    lines: list[Any] = [
        CYCLE,
        "{not json",
        "",
        {"user_id": 24601, "updated_at": "2025-03-12T04:05:51.207Z"},  # no id
        dict(CYCLE, id=2, user_id="abc"),
        dict(CYCLE, id=3, updated_at="yesterday"),
        dict(CYCLE, id=4),
    ]
    f = bronze(tmp_path, "cycle", lines)
    result = warehouse.load_bronze("b1", [f])

    assert result.rows_by_resource == {"cycle": 2}
    assert [r["line_number"] for r in rows(warehouse, "raw_cycle")] == [1, 7]
    quarantined = rows(warehouse, "quarantine_records", "blob_path, line_number")
    assert [(q["line_number"], q["reason"]) for q in quarantined] == [
        (2, "invalid_json"),
        (4, "missing_key_fields"),
        (5, "bad_user_id"),
        (6, "bad_timestamp"),
    ]
    assert quarantined[0]["raw_line"] == "{not json"
    assert quarantined[0]["resource"] == "cycle"
    (history,) = rows(warehouse, "load_history", "blob_path")
    assert history["status"] == "loaded" and history["rows"] == 2
    assert history["reason"] == "4 line(s) quarantined"


def test_unreadable_file_is_quarantined_and_the_rest_loads(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    good = bronze(tmp_path, "sleep", [SLEEP])
    broken_path = tmp_path / "broken.ndjson.gz"
    broken_path.write_bytes(gzip.compress(json.dumps(SLEEP).encode() * 50)[:40])  # truncated
    broken = BronzeFile(
        blob_path="bronze/whoop/sleep/user_id=1/dt=2025-03-12/broken.ndjson.gz",
        local_path=broken_path,
        resource="sleep",
        etag="0xBAD",
    )
    gone = BronzeFile(
        blob_path="bronze/whoop/sleep/user_id=1/dt=2025-03-12/gone.ndjson.gz",
        local_path=tmp_path / "never-downloaded",
        resource="sleep",
        etag="0xGONE",
    )
    result = warehouse.load_bronze("b1", [broken, good, gone])

    assert result.loaded_files == [good.blob_path]
    assert result.rows_by_resource == {"sleep": 1}
    assert set(result.quarantined) == {broken.blob_path, gone.blob_path}
    assert result.quarantined[broken.blob_path].startswith("unreadable")
    files = rows(warehouse, "quarantine_files", "blob_path")
    assert [(q["blob_path"], q["etag"]) for q in files] == [(broken.blob_path, "0xBAD")]
    status = {h["blob_path"]: h["status"] for h in rows(warehouse, "load_history", "blob_path")}
    assert status == {
        broken.blob_path: "quarantined",
        good.blob_path: "loaded",
        gone.blob_path: "missing",
    }
    # a redelivery does not retry a file that will stay broken
    assert warehouse.load_bronze("b2", [broken]).skipped_files == [broken.blob_path]


def test_tombstones_use_key_and_deleted_at(warehouse: Warehouse, tmp_path: Path) -> None:
    f = bronze(tmp_path, "recovery", [RECOVERY, TOMBSTONE])
    result = warehouse.load_bronze("b1", [f])

    assert result.user_ids == {24601, 10129}
    live, dead = rows(warehouse, "raw_recovery")
    assert (live["is_tombstone"], live["tombstone_key_field"]) == (False, None)
    assert dead["record_id"] == TOMBSTONE["key"]
    assert dead["user_id"] == 10129
    assert dead["is_tombstone"] is True
    assert dead["tombstone_key_field"] == "sleep_id"
    assert dead["updated_at"] == datetime(2025, 3, 12, 4, 5, 51, 207000)
    assert json.loads(dead["payload"]) == TOMBSTONE


# --- DuckDB's single-writer rule: the cross-process lock ------------------------------------


def _load_in_child(
    db: str, blob_path: str, local: str, out: Any, ready: Any = None, go: Any = None
) -> None:
    wh = DuckDBWarehouse(Path(db), lock_timeout_s=60)
    f = BronzeFile(blob_path=blob_path, local_path=Path(local), resource="cycle", etag="0x1")
    if ready is not None:  # start together with the parent: the loads must overlap
        ready.set()
        go.wait(30)
    for i in range(5):
        wh.load_bronze(f"{blob_path}-{i}", [f])
    out.put(wh.query("SELECT count(*) AS n FROM bronze.raw_cycle")[0]["n"])


def _hold_lock(db: str, ready: Any, release: Any) -> None:
    wh = DuckDBWarehouse(Path(db))
    with wh.exclusive():
        ready.set()
        release.wait(30)


def test_duckdb_two_processes_load_concurrently(tmp_path: Path) -> None:
    """This process and a spawned one load into the same file at the same time; both succeed."""
    db = tmp_path / "shared.duckdb"
    DuckDBWarehouse(db).ensure_schema()
    locals_ = {
        name: write_bronze(
            tmp_path / f"{name}.ndjson.gz", [json.dumps(dict(CYCLE, id=i)) for i in range(200)]
        )
        for name in ("a", "b")
    }
    ctx = multiprocessing.get_context("spawn")
    out, ready, go = ctx.Queue(), ctx.Event(), ctx.Event()
    child = ctx.Process(
        target=_load_in_child,
        args=(str(db), "bronze/whoop/cycle/a", str(locals_["a"]), out, ready, go),
    )
    child.start()
    try:
        assert ready.wait(30)
        go.set()
        _load_in_child(str(db), "bronze/whoop/cycle/b", str(locals_["b"]), out)
    finally:
        child.join(timeout=60)
    assert child.exitcode == 0
    assert DuckDBWarehouse(db).query("SELECT count(*) AS n FROM bronze.raw_cycle")[0]["n"] == 400
    assert sorted([out.get(timeout=5), out.get(timeout=5)])[-1] == 400


def test_duckdb_lock_is_reentrant_and_times_out_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "locked.duckdb"
    wh = DuckDBWarehouse(db, lock_timeout_s=0.3)
    wh.ensure_schema()
    with wh.exclusive():  # reentrant: query inside exclusive() must not deadlock
        assert wh.query("SELECT 1 AS one") == [{"one": 1}]

    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(db), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(WarehouseLockTimeout):
            wh.query("SELECT 1")
    finally:
        release.set()
        holder.join(timeout=30)
    assert wh.query("SELECT 1 AS one") == [{"one": 1}]


def test_concurrent_loads_in_one_process_load_each_file_once(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """The loader runs ``WDP_LOADER_CONCURRENCY`` batches at once in threads. A file that is in
    two concurrent batches (Event Grid delivers at least once) lands once; the rest all land."""
    shared = bronze(tmp_path, "cycle", [dict(CYCLE, id=i) for i in range(30)], name="shared")

    def page(b: int, k: int) -> BronzeFile:
        records = [dict(CYCLE, id=1000 * b + 100 * k + i) for i in range(25)]
        return bronze(tmp_path, "cycle", records, name=f"b{b}-{k}")

    batches = [[shared] + [page(b, k) for k in range(3)] for b in range(4)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda b: warehouse.load_bronze(f"t{b}", batches[b]), range(len(batches)))
        )
    loaded_shared = [r for r in results if shared.blob_path in r.loaded_files]
    assert len(loaded_shared) == 1
    assert sum(r.rows_by_resource.get("cycle", 0) for r in results) == 30 + 4 * 3 * 25
    counts = warehouse.query(
        "SELECT source_file, count(*) AS n FROM bronze.raw_cycle GROUP BY source_file"
    )
    assert {c["source_file"]: c["n"] for c in counts}[shared.blob_path] == 30
    assert len(counts) == 1 + 4 * 3
    history = warehouse.query(
        "SELECT count(*) AS n FROM bronze.load_history WHERE blob_path = ?", [shared.blob_path]
    )
    assert history[0]["n"] == 1


def test_purge_deletes_one_member_from_every_owned_table_on_both_adapters(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """``delete my data`` SQL path: raw rows, load history and quarantine of member 24601 go;
    member 10129's rows and tables outside the owned schemas stay."""
    from shared.warehouse_purge import delete_user_rows

    other = {**CYCLE, "id": 99, "user_id": 10129}
    files = [
        bronze(tmp_path, "cycle", [CYCLE, "{broken"]),
        BronzeFile(
            blob_path="bronze/whoop/cycle/user_id=10129/dt=2025-03-12/p9.ndjson.gz",
            local_path=write_bronze(tmp_path / "other.ndjson.gz", [json.dumps(other)]),
            resource="cycle",
            etag="0xother",
            content_sha256=None,
            trace_id=None,
            fetched_at=FETCHED,
        ),
    ]
    warehouse.load_bronze("b1", files)
    warehouse.execute("create schema if not exists gold")
    warehouse.execute("create table gold.fact_member (user_key bigint, v integer)")
    warehouse.execute("insert into gold.fact_member values (24601, 1), (10129, 2)")

    deleted = delete_user_rows(warehouse, 24601, ("bronze",))
    assert deleted.get("bronze.raw_cycle") == 1
    assert deleted.get("bronze.load_history") == 1
    assert deleted.get("bronze.quarantine_records") == 1

    def count(sql: str) -> int:
        return int(next(iter(warehouse.query(sql)[0].values())))

    assert count("select count(*) from bronze.raw_cycle where user_id = 24601") == 0
    assert count("select count(*) from bronze.raw_cycle where user_id = 10129") == 1
    assert count("select count(*) from bronze.load_history") == 1
    assert count("select count(*) from bronze.quarantine_records") == 0
    assert count("select count(*) from gold.fact_member") == 2  # not an owned schema here

    gold = delete_user_rows(warehouse, 24601, ("gold",))
    assert gold == {"gold.fact_member": 1}
    assert delete_user_rows(warehouse, 24601, ("bronze", "gold")) == dict.fromkeys(
        {**deleted, **gold}, 0
    )  # idempotent: a redelivered purge deletes nothing more
