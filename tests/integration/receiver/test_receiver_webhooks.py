"""POST /webhooks/whoop: every bad-webhook class is rejected and nothing is enqueued."""

from __future__ import annotations

import time
from typing import Any

import pytest
from receiver_harness import Rx, connect

from shared.contracts import Topic, WebhookReceived, decode

EVENT = {
    "user_id": 10129,
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "type": "sleep.updated",
    "trace_id": "e369c784-5100-49e8-8098-75d35c47b31b",
}
NOW_MS = lambda: int(time.time() * 1000)  # noqa: E731


async def test_valid_webhook_is_enqueued_with_trace(rx: Rx) -> None:
    resp = await rx.webhook(EVENT)
    assert resp.status_code == 202 and resp.json() == {"status": "accepted"}
    [msg] = await rx.drain(Topic.WEBHOOK_RECEIVED)
    payload = decode(Topic.WEBHOOK_RECEIVED, msg.body, msg.application_properties)
    assert isinstance(payload, WebhookReceived)
    assert payload.record_id == EVENT["id"] and payload.whoop_trace_id == EVENT["trace_id"]
    assert payload.user_id == 10129 and payload.event_type.value == "sleep.updated"
    assert "traceparent" in msg.application_properties


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("missing-signature", {"signature": None}),
        ("bad-signature", {"signature": "0dDnfmvZIjdyTtP3jWc843xwaVL8MZcYWxKGprNQW1w="}),
        ("missing-timestamp", {"X-WHOOP-Signature-Timestamp": ""}),
        ("stale", {"ts_offset_ms": -3 * 3600 * 1000}),
        ("future", {"ts_offset_ms": 10 * 60 * 1000}),
    ],
)
async def test_bad_signatures_get_401(rx: Rx, case: str, kwargs: dict[str, Any]) -> None:
    # Timestamps are taken when the test runs, never at collection time: after a long suite a
    # collected "now + 10 min" would already lie inside the accepted skew.
    kwargs = dict(kwargs)
    if "ts_offset_ms" in kwargs:
        kwargs["ts_ms"] = NOW_MS() + kwargs.pop("ts_offset_ms")
    resp = await rx.webhook(EVENT, **kwargs)
    assert resp.status_code == 401, case
    assert await rx.drain(Topic.WEBHOOK_RECEIVED) == []


async def test_window_accepts_whoop_retries_and_small_skew(rx: Rx) -> None:
    for i, offset_s in enumerate((-2 * 3600 + 60, -3600, 240)):
        resp = await rx.webhook({**EVENT, "trace_id": f"t{i}"}, ts_ms=NOW_MS() + offset_s * 1000)
        assert resp.status_code == 202
    assert len(await rx.drain(Topic.WEBHOOK_RECEIVED)) == 3


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b'{"user_id": 1, "id": "x", "type": "sleep.updated"}',
        b'{"user_id": "1", "id": "x", "type": "sleep.updated", "trace_id": "t"}',
        b'{"user_id": 1, "type": "sleep.updated", "trace_id": "t"}',
    ],
    ids=["malformed", "not-object", "no-trace-id", "string-user-id", "no-id"],
)
async def test_signed_but_malformed_gets_400(rx: Rx, body: bytes) -> None:
    resp = await rx.webhook(body)
    assert resp.status_code == 400
    assert await rx.drain(Topic.WEBHOOK_RECEIVED) == []


async def test_oversize_body_gets_413(rx: Rx) -> None:
    big = {**EVENT, "pad": "x" * (64 * 1024)}
    resp = await rx.webhook(big)
    assert resp.status_code == 413

    async def chunks():  # no Content-Length: the streamed size must be checked too
        yield b'{"pad": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}'

    streamed = await rx.client.post(
        "/webhooks/whoop",
        content=chunks(),
        headers={"X-WHOOP-Signature": "x", "X-WHOOP-Signature-Timestamp": str(NOW_MS())},
    )
    assert streamed.status_code == 413
    assert await rx.drain(Topic.WEBHOOK_RECEIVED) == []


async def test_unhandled_type_is_acknowledged_counted_not_processed(rx: Rx) -> None:
    resp = await rx.webhook({**EVENT, "type": "cycle.updated"})
    assert resp.status_code == 200 and resp.json() == {"status": "ignored"}
    assert await rx.drain(Topic.WEBHOOK_RECEIVED) == []
    health = (await rx.client.get("/healthz")).json()
    assert health["webhooks"]["ignored_unhandled_type"] == 1
    metrics = (await rx.client.get("/metrics")).text
    assert 'outcome="ignored_unhandled_type"} 1' in metrics


async def test_duplicate_trace_id_is_a_no_op(rx: Rx) -> None:
    first = await rx.webhook(EVENT)
    replay = await rx.webhook(EVENT, ts_ms=NOW_MS() + 1000)  # WHOOP retry: new timestamp
    assert first.status_code == 202
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert len(await rx.drain(Topic.WEBHOOK_RECEIVED)) == 1


async def test_simulator_deliveries_are_verified_and_duplicates_collapse(rx: Rx) -> None:
    """The simulator signs real deliveries (with its duplicate fault on) to the receiver."""
    import asyncio

    admin = {"X-Admin-Token": "wdp-local-admin-token"}
    await rx.sim_client.put(
        "/admin/webhook", json={"url": "http://rx/webhooks/whoop"}, headers=admin
    )
    await rx.sim_client.put("/admin/faults", json={"webhook_duplicate_rate": 1.0}, headers=admin)
    user = rx.users[0]
    await connect(rx, user)  # only members who authorized the app get webhooks
    workouts = rx.sim.state.sim.index[user]["workout"]
    key = next(k for k, tl in workouts.items() if tl.at(rx.sim.state.sim.clock.now_ms()))
    resp = await rx.sim_client.post(f"/admin/records/workout/{user}/{key}/rescore", headers=admin)
    assert resp.status_code == 200
    for _ in range(100):
        if rx.sim.state.sim.webhooks.pending == 0:
            break
        await asyncio.sleep(0.02)
    log = rx.sim.state.sim.webhooks.log
    assert [e["outcome"] for e in log] == ["delivered", "delivered"]
    assert log[0]["trace_id"] == log[1]["trace_id"]
    [msg] = await rx.drain(Topic.WEBHOOK_RECEIVED)
    event = decode(Topic.WEBHOOK_RECEIVED, msg.body, msg.application_properties)
    assert isinstance(event, WebhookReceived) and event.record_id == key
    assert event.event_type.value == "workout.updated"
