"""Coalescing: a backlog of webhooks for one record costs one WHOOP fetch, not one per webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from extractor_harness import main_sleep, make_harness

from shared.adapters.bus.local import LocalBus
from shared.contracts import Topic, WebhookEventType, WebhookReceived
from shared.messaging import publish_message


def _api_calls(requests: list, path_part: str) -> int:  # type: ignore[type-arg]
    return sum(1 for r in requests if path_part in r.url.path)


async def test_a_burst_for_one_record_is_one_fetch_and_a_later_rescore_one_more(
    tmp_path: Path,
) -> None:
    h, _ = await make_harness(tmp_path)
    bus = LocalBus(tmp_path / "bus.sqlite3")
    await bus.ensure_topology()
    h.app.bus = bus
    h.app.extractor.bus = bus
    try:
        sleep = main_sleep(h)
        other = [s for s in h.state.index[h.user_id]["sleep"] if s != sleep["id"]][0]
        received = datetime.now(UTC) - timedelta(seconds=30)  # a backlog: all arrived earlier
        for i in range(40):
            await publish_message(
                bus,
                WebhookReceived(
                    user_id=h.user_id,
                    event_type=WebhookEventType.SLEEP_UPDATED,
                    record_id=sleep["id"] if i % 4 else other,
                    whoop_trace_id=f"burst-{i}",
                    received_at=received + timedelta(milliseconds=i),
                ),
            )
        consumer = next(c for c in h.app.consumers() if c.topic is Topic.WEBHOOK_RECEIVED)
        while batch := await bus.receive(
            Topic.WEBHOOK_RECEIVED.value, "extractor", max_messages=10, max_wait_s=0.2
        ):
            await consumer.process(batch)
        assert consumer.processed == 40 and consumer.dead_lettered == 0
        # One sleep GET (+ its cycle) per distinct record, however many webhooks were queued.
        assert _api_calls(h.requests, f"/v2/activity/sleep/{sleep['id']}") == 1
        assert _api_calls(h.requests, f"/v2/activity/sleep/{other}") == 1
        assert h.app.extractor.coalesced == 38

        # A re-score that arrives after the fetch started triggers exactly one more fetch.
        await publish_message(
            bus,
            WebhookReceived(
                user_id=h.user_id,
                event_type=WebhookEventType.SLEEP_UPDATED,
                record_id=sleep["id"],
                whoop_trace_id="rescore-later",
                received_at=datetime.now(UTC),  # arrives after the first fetch started
            ),
        )
        batch = await bus.receive(Topic.WEBHOOK_RECEIVED.value, "extractor", max_wait_s=1.0)
        await consumer.process(batch)
        assert _api_calls(h.requests, f"/v2/activity/sleep/{sleep['id']}") == 2
    finally:
        await bus.close()
        await h.app.close()
        await h.http.aclose()
