"""Another member's change reaches gold in normal time while a poisoned record sits in bronze.

The real transformer (LocalBus, DuckDB, the dbt project through the warm runner, the consumer
loop) builds a member's history; then a second member's bronze gets one record per resource
with an unparsable field (``"start": "yesterday"``, ``"score": {"strain": "high"}``…), which
staging quarantines. The figure is the time from publishing the first member's next load to
its ``GoldUpdated``, median of 5, with the poison in bronze; the peer is the same in a clean
warehouse in the same run.
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench import BenchResult
from shared.adapters.bus.local import LocalBus
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.contracts import BronzeLoaded, GoldUpdated, Topic, decode
from shared.messaging import publish_message
from shared.ports import BronzeFile
from shared.settings import PlatformSettings
from transformer.bootstrap import bootstrap
from transformer.settings import TransformerSettings
from whoop_simulator.generator import generate_user
from whoop_simulator.timeutil import iso_ms, parse_iso

RESOURCES = ("cycle", "sleep", "recovery", "workout")
ROUNDS = 5


def _file(lake: Path, resource: str, user_id: int, lines: list[dict[str, Any]]) -> BronzeFile:
    blob = f"bronze/whoop/{resource}/user_id={user_id}/dt=2025-02-01/{uuid.uuid4().hex}.ndjson.gz"
    path = lake / blob
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps(line) + "\n" for line in lines)
    return BronzeFile(blob_path=blob, local_path=path, resource=resource, etag=uuid.uuid4().hex,
                      fetched_at=datetime(2025, 2, 1, tzinfo=UTC))  # fmt: skip


def _poison(user: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for resource in RESOURCES:
        record = copy.deepcopy(user.records(resource)[0])
        if resource == "recovery":
            record["score"]["recovery_score"] = "high"
        else:
            record["start"] = "yesterday"
        out[resource] = [record]
    return out


async def _scenario(tmp: Path, *, poisoned: bool) -> list[float]:
    settings = PlatformSettings(data_dir=tmp, duckdb_path=tmp / "warehouse.duckdb")
    bus = LocalBus.from_settings(settings)
    await bus.ensure_topology()
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    warehouse.ensure_schema()
    service = bootstrap(
        settings,
        transformer_settings=TransformerSettings(debounce_s=0.3, receive_wait_s=0.2),
        bus=bus,
        warehouse=warehouse,
    )
    stop = asyncio.Event()
    consumer = asyncio.create_task(service.consumer.run(stop))
    lake = tmp / "lake"

    async def load(files: list[BronzeFile]) -> float:
        started = time.perf_counter()
        batch = uuid.uuid4().hex
        result = await asyncio.to_thread(warehouse.load_bronze, batch, files)
        await publish_message(bus, BronzeLoaded(
            batch_id=batch, files=tuple(result.loaded_files),
            rows_by_resource=result.rows_by_resource, user_ids=tuple(sorted(result.user_ids)),
            loaded_at=datetime.now(UTC)))  # fmt: skip
        while True:
            for msg in await bus.receive(Topic.GOLD_UPDATED.value, "scorer", max_wait_s=1):
                await bus.complete(msg)
                event = decode(Topic.GOLD_UPDATED, msg.body, msg.application_properties)
                if isinstance(event, GoldUpdated) and batch in event.batch_ids:
                    return time.perf_counter() - started

    try:
        good = generate_user(11, 0, date(2025, 1, 1), 30)
        bad = generate_user(12, 1, date(2025, 1, 1), 30)
        await load([_file(lake, r, good.user_id, good.records(r)) for r in RESOURCES])
        await load([_file(lake, r, bad.user_id, bad.records(r)) for r in RESOURCES])
        if poisoned:
            poison = _poison(bad)
            await load([_file(lake, r, bad.user_id, lines) for r, lines in poison.items()])
        times = []
        sleep = copy.deepcopy(good.records("sleep")[-1])
        for i in range(ROUNDS):
            sleep["updated_at"] = iso_ms(parse_iso(sleep["updated_at"]) + 60_000 * (i + 1))
            times.append(await load([_file(lake, "sleep", good.user_id, [sleep])]))
        return times
    finally:
        stop.set()
        await asyncio.wait_for(consumer, timeout=120)
        await service.close()


def run(results_dir: Path) -> list[BenchResult]:
    """Poisoned vs clean warehouse, the same member change, medians of 5."""
    del results_dir

    async def both() -> tuple[list[float], list[float]]:
        with tempfile.TemporaryDirectory(prefix="wdp-bench-poison-") as tmp:
            poisoned = await _scenario(Path(tmp) / "poisoned", poisoned=True)
            clean = await _scenario(Path(tmp) / "clean", poisoned=False)
        return poisoned, clean

    poisoned, clean = asyncio.run(both())
    return [
        BenchResult(
            name="poison_other_member_to_gold",
            metric="another member's load → GoldUpdated with a poisoned record in bronze "
            "(median of 5)",
            value=round(statistics.median(poisoned), 3),
            unit="s",
            goal="equal to the clean warehouse within noise; no failed build",
            peer="same change, clean warehouse",
            peer_value=round(statistics.median(clean), 3),
            details={
                "poisoned_s": [round(t, 3) for t in poisoned],
                "clean_s": [round(t, 3) for t in clean],
            },  # fmt: skip
        )
    ]
