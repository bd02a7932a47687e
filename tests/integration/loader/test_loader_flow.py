"""The real loader consumer loop on LocalBus + LocalBlobStore + DuckDB, all under tmp_path.

put a blob → BlobCreated (published by the blob store, Event Grid schema) → loader loop →
rows in ``bronze.raw_*`` → BronzeLoaded on ``warehouse.bronze-loaded``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loader.bootstrap import LoaderApp, bootstrap
from loader.settings import LoaderSettings
from shared.adapters.blob.local import LocalBlobStore
from shared.adapters.bus.local import LocalBus
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.contracts import BronzeLoaded, Topic, decode
from shared.ports.bus import ReceivedMessage
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing, current_trace_id, tracer

CYCLE_DIR = "bronze/whoop/cycle/user_id=24601/dt=2025-03-12"


@dataclass
class Stack:
    app: LoaderApp
    bus: LocalBus
    blobs: LocalBlobStore
    warehouse: DuckDBWarehouse
    last_traceparent: str = ""


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    platform = PlatformSettings(data_dir=tmp_path / "data", bus_lock_duration_s=5.0)
    configure_tracing("loader-test", platform)  # no-op if this process already has a provider
    bus = LocalBus.from_settings(platform)
    await bus.ensure_topology()
    blobs = LocalBlobStore.from_settings(platform, bus=bus)  # emits BlobCreated like Event Grid
    warehouse = DuckDBWarehouse.from_settings(platform)
    app = await bootstrap(
        LoaderSettings(max_wait_s=0.2, tmp_dir=tmp_path / "tmp"),
        platform=platform,
        bus=bus,
        blobs=blobs,
        warehouse=warehouse,
    )
    (tmp_path / "tmp").mkdir()
    try:
        yield Stack(app, bus, blobs, warehouse)
    finally:
        await app.close()
        await bus.close()


def page(ids: range, extra: list[str] | None = None) -> bytes:
    lines = [
        json.dumps(
            {"id": i, "user_id": 24601, "updated_at": "2025-03-12T04:05:51.207Z", "score": None}
        )
        for i in ids
    ]
    return gzip.compress(("\n".join(lines + (extra or [])) + "\n").encode())


async def run_until_loaded(stack: Stack, expected: int) -> list[BronzeLoaded]:
    """Run the consumer loop until ``expected`` BronzeLoaded arrived (bounded wait)."""
    stop = asyncio.Event()
    task = asyncio.create_task(stack.app.consumer().run(stop))
    got: list[ReceivedMessage] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < expected:
                got += await stack.bus.receive(
                    Topic.BRONZE_LOADED.value, "transformer", max_messages=10, max_wait_s=0.5
                )
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    out = []
    for msg in got:
        await stack.bus.complete(msg)
        payload = decode(Topic.BRONZE_LOADED, msg.body, msg.application_properties)
        assert isinstance(payload, BronzeLoaded)
        assert "traceparent" in msg.application_properties, "trace context must propagate"
        assert msg.message_id == payload.batch_id
        stack.last_traceparent = str(msg.application_properties["traceparent"])
        out.append(payload)
    return out


async def test_blob_to_raw_rows_to_bronze_loaded_and_redelivery_loads_nothing(
    stack: Stack,
) -> None:
    path = f"{CYCLE_DIR}/20250312T060000Z_job_1.ndjson.gz"
    with tracer(__name__).start_as_current_span("extract"):
        fetch_trace = current_trace_id()
        await stack.blobs.put(
            path,
            page(range(25)),
            metadata={
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "fetched_at": "2025-03-12T06:00:00Z",
            },
        )
    await stack.blobs.put("models/recovery/v1.bin", b"not bronze")  # ignored

    (loaded,) = await run_until_loaded(stack, 1)
    assert fetch_trace is not None and fetch_trace in stack.last_traceparent

    assert loaded.files == (path,)
    assert loaded.rows_by_resource == {"cycle": 25}
    assert loaded.user_ids == (24601,)
    rows = stack.warehouse.query(
        "SELECT count(*) AS n, min(trace_id) AS t FROM bronze.raw_cycle WHERE source_file = ?",
        [path],
    )
    assert rows == [{"n": 25, "t": "4bf92f3577b34da6a3ce929d0e0e4736"}]

    # Event Grid delivers at least once: replay the same event → zero new rows, no announcement
    info = await stack.blobs.info(path)
    assert stack.blobs.events is not None
    await stack.blobs.events.blob_created(info)
    consumer = stack.app.consumer()
    msgs = await stack.bus.receive(Topic.BLOB_EVENTS.value, "loader", max_messages=10, max_wait_s=2)
    await consumer.process(msgs)
    assert consumer.processed == len(msgs) == 1
    assert stack.warehouse.query("SELECT count(*) AS n FROM bronze.raw_cycle") == [{"n": 25}]
    assert await stack.bus.receive(Topic.BRONZE_LOADED.value, "transformer", max_wait_s=0.2) == []


async def test_bad_file_is_quarantined_and_reported(stack: Stack) -> None:
    good = f"{CYCLE_DIR}/20250312T060000Z_job_1.ndjson.gz"
    bad = f"{CYCLE_DIR}/20250312T060000Z_job_2.ndjson.gz"
    await stack.blobs.put(good, page(range(3), extra=["{truncated"]))
    await stack.blobs.put(bad, page(range(3))[:20])  # a torn gzip stream

    reports = await run_until_loaded(stack, 1)

    assert sum(r.rows_by_resource.get("cycle", 0) for r in reports) == 3
    assert {q for r in reports for q in r.quarantined_files} == {bad}
    assert stack.warehouse.query("SELECT blob_path FROM bronze.quarantine_files") == [
        {"blob_path": bad}
    ]
    assert stack.warehouse.query("SELECT line_number, reason FROM bronze.quarantine_records") == [
        {"line_number": 4, "reason": "invalid_json"}
    ]


def newline_bomb(inflated: int) -> bytes:
    """One gzip member of ``inflated`` bytes of newlines (~1/1000 of that on the wire),
    built in 1 MiB steps so the test never holds the inflated bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    step = b"\n" * (1 << 20)
    out = [packer.compress(step) for _ in range(inflated >> 20)]
    return b"".join([*out, packer.flush()])


async def test_decompression_bomb_is_quarantined_once_and_the_event_completes(
    stack: Stack,
) -> None:
    bomb = f"{CYCLE_DIR}/20250312T060000Z_job_bomb.ndjson.gz"
    good = f"{CYCLE_DIR}/20250312T060000Z_job_1.ndjson.gz"
    body = newline_bomb(200 << 20)
    assert len(body) < 250_000  # "a 200 KB gzip member that inflates to 200 MiB"
    await stack.blobs.put(bomb, body)
    await stack.blobs.put(good, page(range(2)))

    reports = await run_until_loaded(stack, 1)

    assert sum(r.rows_by_resource.get("cycle", 0) for r in reports) == 2
    assert {q for r in reports for q in r.quarantined_files} == {bomb}
    (row,) = stack.warehouse.query("SELECT blob_path, reason FROM bronze.quarantine_files")
    assert row["blob_path"] == bomb
    assert row["reason"] == (
        "too_large: inflates to more than 134217728 bytes (max_inflated_bytes)"
    )
    history = stack.warehouse.query(
        "SELECT status, rows FROM bronze.load_history WHERE blob_path = ?", [bomb]
    )
    assert history == [{"status": "quarantined", "rows": 0}]
    assert stack.warehouse.query(
        "SELECT count(*) AS n FROM bronze.raw_cycle WHERE source_file = ?", [bomb]
    ) == [{"n": 0}]
    # completed, not retried: nothing left on the subscription, nothing dead-lettered
    assert await stack.bus.receive(Topic.BLOB_EVENTS.value, "loader", max_wait_s=0.2) == []
    assert await stack.bus.list_dead_letters(Topic.BLOB_EVENTS.value, "loader") == []

    # a redelivered event skips the file on its load history: no second inflation
    info = await stack.blobs.info(bomb)
    assert stack.blobs.events is not None
    await stack.blobs.events.blob_created(info)
    consumer = stack.app.consumer()
    msgs = await stack.bus.receive(Topic.BLOB_EVENTS.value, "loader", max_messages=10, max_wait_s=2)
    await consumer.process(msgs)
    assert stack.warehouse.query("SELECT count(*) AS n FROM bronze.quarantine_files") == [{"n": 1}]
