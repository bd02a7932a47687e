"""The extractor's real consumers on LocalBus: webhook message → bronze blob, settled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from extractor_harness import main_sleep, make_harness

from shared.adapters.bus.local import LocalBus
from shared.contracts import Topic, WebhookEventType, WebhookReceived, encode
from shared.ports import OutgoingMessage


async def test_consumers_process_webhook_messages_end_to_end(tmp_path: Path) -> None:
    h, _ = await make_harness(tmp_path)
    bus = LocalBus(tmp_path / "bus.sqlite3")
    try:
        await bus.ensure_topology()
        h.app.bus = bus
        h.app.extractor.bus = bus
        sleep = main_sleep(h)
        body, props = encode(
            WebhookReceived(
                user_id=h.user_id,
                event_type=WebhookEventType.SLEEP_UPDATED,
                record_id=sleep["id"],
                whoop_trace_id="trace-1",
                received_at=datetime.now(UTC),
            )
        )
        await bus.publish(
            Topic.WEBHOOK_RECEIVED.value, [OutgoingMessage(body=body, application_properties=props)]
        )
        consumer = next(c for c in h.app.consumers() if c.topic is Topic.WEBHOOK_RECEIVED)
        received = await bus.receive(Topic.WEBHOOK_RECEIVED.value, "extractor", max_wait_s=1.0)
        await consumer.process(received)
        assert consumer.processed == 1 and consumer.dead_lettered == 0
        assert await h.lines("sleep") == [sleep]
        assert await bus.receive(Topic.WEBHOOK_RECEIVED.value, "extractor", max_wait_s=0.1) == []
        runner = h.app.runner()
        assert runner.name == "extractor" and len(runner.consumers) == 4 and runner.periodic
    finally:
        await bus.close()
        await h.app.close()
        await h.http.aclose()
