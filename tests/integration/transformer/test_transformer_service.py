"""The transformer end to end on real infrastructure: LocalBus (SQLite), DuckDBWarehouse, the
real dbt project through the warm in-process runner, driven by the real consumer loop.

Also measures the figures the platform reports: dbt cold start, the first (full) build, and
the incremental build after a single-record change.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from shared.adapters.bus.local import LocalBus
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.contracts import BronzeLoaded, GoldUpdated, Topic, decode
from shared.messaging import publish_message
from shared.ports import BronzeFile
from shared.settings import PlatformSettings
from transformer.bootstrap import TransformerService, bootstrap
from transformer.settings import TransformerSettings
from whoop_simulator.generator import generate_user
from whoop_simulator.timeutil import iso_ms, parse_iso

pytestmark = pytest.mark.slow
USER_DAYS = 30


@dataclass
class Stack:
    settings: PlatformSettings
    bus: LocalBus
    warehouse: DuckDBWarehouse
    service: TransformerService
    lake: Path


def _write(lake: Path, resource: str, user_id: int, lines: list[dict[str, Any]]) -> BronzeFile:
    import gzip

    blob = f"bronze/whoop/{resource}/user_id={user_id}/dt=2025-02-01/{uuid.uuid4().hex}.ndjson.gz"
    path = lake / blob
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps(line) + "\n" for line in lines)
    return BronzeFile(blob_path=blob, local_path=path, resource=resource, etag=uuid.uuid4().hex)


def _tracer() -> trace.Tracer:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())  # once per process; other tests may share it
    return trace.get_tracer(__name__)


async def _load_and_announce(stack: Stack, files: list[BronzeFile]) -> str:
    """Load files and publish bronze.loaded inside a span; returns the span's trace id."""
    batch_id = uuid.uuid4().hex
    result = await asyncio.to_thread(stack.warehouse.load_bronze, batch_id, files)
    with _tracer().start_as_current_span("test loader") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        await publish_message(
            stack.bus,
            BronzeLoaded(
                batch_id=batch_id,
                files=tuple(result.loaded_files),
                rows_by_resource=result.rows_by_resource,
                user_ids=tuple(sorted(result.user_ids)),
                loaded_at=datetime.now(UTC),
            ),
        )
    return trace_id


async def _next_gold_updated(bus: LocalBus, trace_id: str, timeout_s: float = 90.0) -> GoldUpdated:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        msgs = await bus.receive(Topic.GOLD_UPDATED.value, "scorer", max_messages=1, max_wait_s=1)
        if msgs:
            await bus.complete(msgs[0])
            payload = decode(Topic.GOLD_UPDATED, msgs[0].body, msgs[0].application_properties)
            assert isinstance(payload, GoldUpdated)
            # the build runs in the trace of the first message of the burst
            assert trace_id in msgs[0].application_properties["traceparent"]
            return payload
    raise AssertionError("no gold.updated within the timeout")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    settings = PlatformSettings(data_dir=tmp_path, duckdb_path=tmp_path / "warehouse.duckdb")
    bus = LocalBus.from_settings(settings)
    await bus.ensure_topology()
    warehouse = DuckDBWarehouse.from_settings(settings)
    warehouse.ensure_schema()
    service = bootstrap(
        settings,
        # The window must outlast four sequential DuckDB loads on a busy 2-core machine.
        transformer_settings=TransformerSettings(debounce_s=2.0, receive_wait_s=0.2),
        bus=bus,
        warehouse=warehouse,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.consumer.run(stop))
    try:
        yield Stack(settings, bus, warehouse, service, tmp_path / "lake")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
        await service.close()


async def test_bronze_loaded_builds_gold_and_single_change_propagates(stack: Stack) -> None:
    user = generate_user(7, 0, date(2025, 1, 1), USER_DAYS)
    uid = user.user_id
    timings: dict[str, float] = {}
    timings["cold_start_parse_s"] = await asyncio.to_thread(stack.service.runner.warm)

    # 1. a burst of four loads (one per resource) becomes ONE build thanks to the debounce
    trace_ids = [
        await _load_and_announce(stack, [_write(stack.lake, resource, uid, user.records(resource))])
        for resource in ("cycle", "sleep", "recovery", "workout")
    ]
    first = await _next_gold_updated(stack.bus, trace_ids[0])
    assert first.user_ids == (uid,)
    assert len(first.batch_ids) == 4, "the burst must be merged into one build"
    assert len(first.dates) >= USER_DAYS - 2
    history = stack.service.runner.history
    assert len(history) == 1 and history[0][0].select == ()
    timings["first_full_build_s"] = history[0][1].elapsed_s

    # 2. a single re-scored sleep: gold changes for exactly that sleep's wake day
    sleep = next(s for s in user.records("sleep") if s["score_state"] == "SCORED")
    rescored = json.loads(json.dumps(sleep))
    rescored["score"]["respiratory_rate"] = 21.5
    rescored["updated_at"] = iso_ms(parse_iso(sleep["updated_at"]) + 60_000)
    trace_id = await _load_and_announce(stack, [_write(stack.lake, "sleep", uid, [rescored])])
    second = await _next_gold_updated(stack.bus, trace_id)
    request, outcome = stack.service.runner.history[-1]
    assert request.select == ("source:whoop.raw_sleep+",)
    timings["incremental_after_one_record_s"] = outcome.elapsed_s
    rows = stack.warehouse.query(
        f"select respiratory_rate, date_key from gold.fact_sleep where sleep_id = '{sleep['id']}'"
    )
    assert rows[0]["respiratory_rate"] == 21.5
    wake = rows[0]["date_key"]
    assert date(wake // 10000, wake // 100 % 100, wake % 100) in second.dates

    # 3. a tombstone: the workout disappears from the incremental fact
    workout = next(w for w in user.records("workout") if w["score_state"] == "SCORED")
    tomb = {
        "wdp_tombstone": True,
        "resource": "workout",
        "key_field": "id",
        "key": workout["id"],
        "user_id": uid,
        "deleted_at": iso_ms(parse_iso(workout["updated_at"]) + 3_600_000),
        "source": "webhook",
    }
    trace_id = await _load_and_announce(stack, [_write(stack.lake, "workout", uid, [tomb])])
    third = await _next_gold_updated(stack.bus, trace_id)
    assert third.dates, "the deleted workout's day must be announced"
    gone = stack.warehouse.query(
        f"select count(*) as n from gold.fact_workouts where workout_id = '{workout['id']}'"
    )
    assert gone[0]["n"] == 0
    timings["incremental_after_one_tombstone_s"] = stack.service.runner.history[-1][1].elapsed_s
    (stack.settings.data_dir / "transformer-timings.json").write_text(json.dumps(timings))
    print(f"transformer dbt timings: {timings}")  # noqa: T201 - shown with -s, for the report
