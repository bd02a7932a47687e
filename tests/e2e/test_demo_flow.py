"""The demo flow inside pytest: real processes, free ports, a temp data dir.

One module-scoped run of :func:`wdp_cli.commands.demo.run_demo` (simulator + five services,
OAuth connect, 90-day backfill, 10 signed webhooks: the demo fires 20, the test
half as many to stay inside its time budget) feeds every assertion; the stack is kept
up for the poison-message test and stopped at the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shared.composition import build_bus
from shared.contracts import Topic
from shared.ports import OutgoingMessage
from shared.settings import PlatformSettings
from wdp_cli.commands.demo import DemoOptions, DemoResult, run_demo, spans_of_trace
from wdp_cli.main import app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

PIPELINE = ("receiver", "extractor", "loader", "transformer", "scorer")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    data_dir = tmp_path_factory.mktemp("demo")
    result = run_demo(
        DemoOptions(
            data_dir=data_dir,
            seed=7,
            users=2,
            history_days=100,
            backfill_days=90,
            webhooks=10,
            keep=True,
            step_timeout_s=240,
            event_timeout_s=45,
        )
    )
    try:
        yield result
    finally:
        if result.stack is not None:
            result.stack.stop()


def test_gold_equals_simulator_ground_truth(demo: DemoResult) -> None:
    assert demo.gold_mismatches == {}
    assert demo.gold_matches_truth and all(demo.gold_matches_truth.values())


def test_a_prediction_exists_for_every_gold_day(demo: DemoResult) -> None:
    assert demo.days_without_prediction == []
    predictions = demo.layer_counts["predictions"]
    assert predictions.get("baseline_7d_mean", 0) >= 85
    # The model trained mid-demo was picked up and rescored the whole history.
    assert demo.model_version is not None
    assert predictions.get("ridge_recovery", 0) >= 85


def test_every_webhook_reaches_a_prediction(demo: DemoResult) -> None:
    assert len(demo.events) == 10
    missing = [e.record_key for e in demo.events if e.latency_s is None]
    assert missing == []
    # Latency is measured by `make bench` (bench/results), never asserted under test load.


def test_one_trace_spans_webhook_to_prediction(demo: DemoResult) -> None:
    assert demo.stack is not None and demo.trace_id is not None
    spans = spans_of_trace(demo.stack.spans_file, demo.trace_id)
    services = {s["service"] for s in spans}
    assert set(PIPELINE) <= services, services
    by_id = {s["span_id"]: s for s in spans}
    roots = [s for s in spans if s["parent_span_id"] is None]
    assert len(roots) == 1
    root = roots[0]
    assert root["service"] == "receiver" and root["kind"] == "SERVER"
    # Every span hangs off the webhook's span: walk each one up to the root.
    for span in spans:
        hops = 0
        current = span
        while current["parent_span_id"] is not None:
            current = by_id[current["parent_span_id"]]
            hops += 1
            assert hops < 100
        assert current is root
    # ...and the scorer's span descends through every service in pipeline order.
    scorer = next(s for s in spans if s["service"] == "scorer")
    chain: list[str] = []
    current = scorer
    while current is not None:
        if not chain or chain[-1] != current["service"]:
            chain.append(current["service"])
        parent = current["parent_span_id"]
        current = by_id[parent] if parent is not None else None
    assert list(reversed(chain)) == list(PIPELINE)


def _health(data_dir: Path, service: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((data_dir / "health" / f"{service}.json").read_text())
    return state


def _dead_lettered(data_dir: Path) -> int:
    consumers = _health(data_dir, "scorer")["consumers"]
    return int(consumers[Topic.GOLD_UPDATED.value]["dead_lettered"])


def _wait(predicate: Any, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_poison_message_is_dead_lettered_and_replayable(demo: DemoResult) -> None:
    assert demo.stack is not None
    data_dir = demo.stack.data_dir
    settings = PlatformSettings(data_dir=data_dir)
    before = _dead_lettered(data_dir)

    async def publish_poison() -> None:
        bus = build_bus(settings)
        try:
            await bus.publish(
                Topic.GOLD_UPDATED.value,
                [
                    OutgoingMessage(
                        body=b'{"run_id": "poison", "user_ids": "not-a-list"}',
                        application_properties={"message_type": "GoldUpdated"},
                        message_id="poison-1",
                    )
                ],
            )
        finally:
            await bus.close()

    asyncio.run(publish_poison())
    assert _wait(lambda: _dead_lettered(data_dir) == before + 1), "poison was not dead-lettered"

    runner = CliRunner()
    listed = runner.invoke(
        app,
        ["dlq", "list", "--json", "--topic", Topic.GOLD_UPDATED.value, "--data-dir", str(data_dir)],
    )
    assert listed.exit_code == 0, listed.output
    letters = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    poison = [letter for letter in letters if letter["message_id"] == "poison-1"]
    assert poison and poison[0]["reason"] == "ContractError"

    replayed = runner.invoke(
        app,
        [
            "dlq",
            "replay",
            "--id",
            "poison-1",
            "--topic",
            Topic.GOLD_UPDATED.value,
            "--data-dir",
            str(data_dir),
        ],
    )
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1" in replayed.output
    # Put back on the topic, the scorer receives it again (and, still malformed, dead-letters it).
    assert _wait(lambda: _dead_lettered(data_dir) == before + 2), "replay never reached the scorer"


def _member_rows(data_dir: Path, user_id: int) -> dict[str, int]:
    """Rows of the member in every table that holds member data: every layer of the writers'
    warehouse and the published copy readers query."""
    from shared.adapters.warehouse.duckdb import DuckDBWarehouse
    from shared.adapters.warehouse.published import PublishedDuckDB
    from shared.warehouse_purge import user_tables

    settings = PlatformSettings(data_dir=data_dir)
    out: dict[str, int] = {}
    readers = PublishedDuckDB(settings.duckdb_published_file)
    for schema, table, column in user_tables(readers, ("bronze", "gold")):
        where = (
            f"{column} like '%/user_id={user_id}/%'"
            if column == "blob_path"
            else f"{column} = {user_id}"
        )
        rows = readers.query(f"select count(*) as n from {schema}.{table} where {where}")
        if rows[0]["n"]:
            out[f"published:{schema}.{table}"] = int(rows[0]["n"])
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    try:
        for schema, table, column in user_tables(warehouse, ("bronze", "silver", "gold")):
            where = (
                f"{column} like '%/user_id={user_id}/%'"
                if column == "blob_path"
                else f"{column} = {user_id}"
            )
            rows = warehouse.query(f"select count(*) as n from {schema}.{table} where {where}")
            if rows[0]["n"]:
                out[f"{schema}.{table}"] = int(rows[0]["n"])
        return out
    finally:
        warehouse.close()


def _member_blobs(data_dir: Path, user_id: int) -> list[str]:
    lake = PlatformSettings(data_dir=data_dir).blob_root
    return [str(p) for p in lake.rglob(f"user_id={user_id}")]  # empty folders go too


def _member_state(data_dir: Path, user_id: int) -> dict[str, int]:
    import sqlite3

    out: dict[str, int] = {}
    for db in (data_dir / "state.sqlite3", data_dir / "tokens.sqlite3"):
        with sqlite3.connect(db) as conn:
            tables = [
                r[0]
                for r in conn.execute("select name from sqlite_master where type = 'table'")
                if "user_id" in [c[1] for c in conn.execute(f"pragma table_info({r[0]})")]
            ]
            for table in tables:
                (n,) = conn.execute(
                    f"select count(*) from {table} where user_id = ?", (user_id,)
                ).fetchone()
                if n:
                    out[f"{db.name}:{table}"] = int(n)
    return out


def test_purge_deletes_the_member_everywhere_and_reconnect_starts_clean(
    demo: DemoResult,
) -> None:
    """``disconnect?purge=true`` through the receiver: no row, blob or state of the member
    remains in any layer (bronze, silver, gold, predictions, quarantine, jobs, tokens,
    extractor state), and connecting again starts a fresh initial backfill."""
    import httpx

    from wdp_cli.commands.demo import connect_user

    assert demo.stack is not None
    data_dir = demo.stack.data_dir
    uid = demo.user_id
    assert _member_rows(data_dir, uid), "the member has data before the purge"
    assert _member_blobs(data_dir, uid)

    resp = httpx.post(
        f"{demo.stack.receiver_url}/v1/users/{uid}/disconnect",
        params={"purge": "true"},
        headers={"X-API-Key": demo.stack.api_key},
        timeout=30.0,
    )
    assert resp.status_code == 202, resp.text

    def gone() -> bool:
        return (
            not _member_rows(data_dir, uid)
            and not _member_blobs(data_dir, uid)
            and not _member_state(data_dir, uid)
        )

    assert _wait(gone, timeout_s=120.0), (
        _member_rows(data_dir, uid),
        _member_blobs(data_dir, uid),
        _member_state(data_dir, uid),
    )
    status = httpx.get(
        f"{demo.stack.receiver_url}/v1/users/{uid}/status",
        headers={"X-API-Key": demo.stack.api_key},
        timeout=30.0,
    )
    assert status.status_code == 404  # the receiver forgot the member too

    # Connecting again starts clean: a fresh initial backfill (no watermark to resume from).
    assert connect_user(demo.stack, uid) == uid

    def backfilled_again() -> bool:
        rows = _member_rows(data_dir, uid)
        return rows.get("gold.fact_daily_recovery", 0) > 0

    assert _wait(backfilled_again, timeout_s=180.0), _member_rows(data_dir, uid)
    import sqlite3

    with sqlite3.connect(data_dir / "state.sqlite3") as conn:
        jobs = [
            r[0] for r in conn.execute("select job_id from sync_jobs where user_id = ?", (uid,))
        ]
    assert any(j.startswith(f"initial-{uid}-") for j in jobs), jobs
    assert not any(j.startswith("resume-") for j in jobs), jobs
