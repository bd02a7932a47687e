"""The shared consumer runtime settles correctly on a real LocalBus (handler outcome → action)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.adapters.blob.events import build_blob_created_event, decode_blob_event
from shared.adapters.bus.local import LocalBus
from shared.contracts import BlobCreated, GoldUpdated, Topic, encode
from shared.errors import TerminalError, TransientError
from shared.ports.blob import BlobInfo
from shared.ports.bus import OutgoingMessage, ReceivedMessage
from shared.runtime.consumer import Consumer


def _gold(run_id: str) -> OutgoingMessage:
    body, props = encode(GoldUpdated(run_id=run_id, user_ids=(1,), finished_at=datetime.now(UTC)))
    return OutgoingMessage(body=body, application_properties=props, message_id=run_id)


async def _run_until(consumer: Consumer, done: Any, timeout_s: float = 5.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not done():
            assert asyncio.get_running_loop().time() < deadline, "consumer did not finish"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_consumer_completes_dead_letters_and_retries_on_local_bus(tmp_path: Path) -> None:
    bus = LocalBus(tmp_path / "bus.sqlite3", lock_duration_s=2, max_delivery_count=2)
    seen: list[tuple[str, int]] = []

    async def handler(payload: GoldUpdated, message: ReceivedMessage) -> None:
        seen.append((payload.run_id, message.delivery_count))
        if payload.run_id == "terminal":
            raise TerminalError("cannot ever work")
        if payload.run_id == "transient":
            raise TransientError("try again")

    await bus.publish(
        Topic.GOLD_UPDATED.value, [_gold("ok"), _gold("terminal"), _gold("transient")]
    )
    await bus.publish(
        Topic.GOLD_UPDATED.value,
        [OutgoingMessage(body=b'{"nope": 1}', message_id="garbage")],
    )
    consumer = Consumer(
        bus, Topic.GOLD_UPDATED, "scorer", handler=handler, max_messages=4, max_wait_s=0.2
    )
    await _run_until(consumer, lambda: consumer.dead_lettered >= 2 and consumer.abandoned >= 2)
    letters = await bus.list_dead_letters(Topic.GOLD_UPDATED.value, "scorer")
    reasons = {d.message_id: d.reason for d in letters}
    assert reasons == {
        "terminal": "TerminalError",
        "garbage": "ContractError",
        "transient": "MaxDeliveryCountExceeded",
    }
    assert consumer.processed == 1
    assert ("transient", 1) in seen and ("transient", 2) in seen
    assert await bus.active_count(Topic.GOLD_UPDATED.value, "scorer") == 0
    await bus.close()


async def test_blob_event_decoder_skips_other_event_types(tmp_path: Path) -> None:
    bus = LocalBus(tmp_path / "bus.sqlite3", lock_duration_s=2)
    info = BlobInfo(
        path="bronze/x.ndjson",
        size=3,
        etag="0x1",
        content_sha256=None,
        last_modified=datetime.now(UTC),
        url="file:///x",
    )
    _, created = build_blob_created_event(account="a", container="lake", info=info)
    deleted = json.loads(created)
    deleted["eventType"] = "Microsoft.Storage.BlobDeleted"
    await bus.publish(
        Topic.BLOB_EVENTS.value,
        [
            OutgoingMessage(body=created, message_id="created"),
            OutgoingMessage(body=json.dumps(deleted).encode(), message_id="deleted"),
        ],
    )
    payloads: list[BlobCreated | None] = []

    async def handler(payload: BlobCreated | None, message: ReceivedMessage) -> None:
        payloads.append(payload)

    consumer = Consumer(
        bus,
        Topic.BLOB_EVENTS,
        "loader",
        handler=handler,
        decoder=decode_blob_event,
        max_messages=5,
        max_wait_s=0.2,
    )
    await _run_until(consumer, lambda: consumer.processed == 2)
    assert [p.path if p else None for p in payloads] == ["bronze/x.ndjson", None]
    assert await bus.list_dead_letters(Topic.BLOB_EVENTS.value, "loader") == []
    await bus.close()
