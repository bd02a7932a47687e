"""One contract suite for every ``MessageBus`` adapter (the semantics in ``shared.ports.bus``).

LocalBus always runs (tiny lock durations keep it fast). ServiceBusBus runs when
``SERVICEBUS_CONNECTION_STRING`` is set (a real namespace or the emulator from
docker-compose.yml; see docs/messaging.md). On Service Bus the lock duration and max delivery
count belong to the subscription, so the harness reads them from
``SERVICEBUS_LOCK_DURATION_S`` / ``SERVICEBUS_MAX_DELIVERY_COUNT`` (the emulator config sets
60 s / 10) and the expiry tests simply wait that long.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.adapters.bus.local import LocalBus
from shared.contracts import Topic
from shared.ports.bus import LockLost, MessageBus, OutgoingMessage, ReceivedMessage

LOCAL_LOCK_S = 0.5
LOCAL_MAX_DELIVERY = 3
LOCAL_TOPIC = "contract.main"
LOCAL_SUB = "sub"
LOCAL_FANOUT = ("contract.fanout", ("a", "b", "c"))


@dataclass
class BusHarness:
    """An adapter plus the subscription settings the tests must respect."""

    kind: str
    bus: MessageBus
    topic: str
    subscription: str
    lock_s: float
    max_delivery: int
    fanout: tuple[str, tuple[str, ...]] | None
    bus_path: Path | None = None
    dedupe_window_s: float = 0.0
    sent_ids: list[str] = field(default_factory=list)

    def new_id(self) -> str:
        message_id = f"contract-{uuid.uuid4().hex}"
        self.sent_ids.append(message_id)
        return message_id

    async def receive_one(self, wait_s: float = 2.0) -> ReceivedMessage | None:
        got = await self.bus.receive(self.topic, self.subscription, max_wait_s=wait_s)
        return got[0] if got else None

    async def outlive_duplicate_detection(self, published_at: float) -> None:
        """Service Bus drops a replay whose message_id it saw within the dedupe window."""
        remaining = published_at + self.dedupe_window_s + 1.0 - time.monotonic()
        if self.dedupe_window_s and remaining > 0:
            await asyncio.sleep(remaining)

    async def drain(self) -> None:
        """Complete leftovers from earlier runs (only matters on a shared namespace)."""
        while True:
            got = await self.bus.receive(
                self.topic, self.subscription, max_messages=50, max_wait_s=0.5
            )
            if not got:
                return
            for msg in got:
                await self.bus.complete(msg)


def _servicebus_harness() -> BusHarness:
    from shared.adapters.bus.servicebus import ServiceBusBus
    from shared.settings import PlatformSettings

    settings = PlatformSettings(
        servicebus_connection_string=SecretStr(os.environ["SERVICEBUS_CONNECTION_STRING"]),
        servicebus_prefetch=0,
    )
    fanout_env = os.environ.get("SERVICEBUS_FANOUT")  # "topic:sub1,sub2"
    fanout = None
    if fanout_env:
        topic, subs = fanout_env.split(":", 1)
        fanout = (topic, tuple(subs.split(",")))
    return BusHarness(
        kind="servicebus",
        bus=ServiceBusBus.from_settings(settings),
        topic=os.environ.get("SERVICEBUS_CONTRACT_TOPIC", Topic.PREDICTIONS_WRITTEN.value),
        subscription=os.environ.get("SERVICEBUS_CONTRACT_SUBSCRIPTION", "observer"),
        lock_s=float(os.environ.get("SERVICEBUS_LOCK_DURATION_S", "60")),
        max_delivery=int(os.environ.get("SERVICEBUS_MAX_DELIVERY_COUNT", "10")),
        fanout=fanout,
        dedupe_window_s=float(os.environ.get("SERVICEBUS_DUPLICATE_DETECTION_S", "20")),
    )


_ADAPTERS = [
    "local",
    pytest.param(
        "servicebus",
        marks=pytest.mark.skipif(
            not os.environ.get("SERVICEBUS_CONNECTION_STRING"),
            reason="set SERVICEBUS_CONNECTION_STRING to run against Service Bus or its emulator",
        ),
    ),
]


@pytest.fixture(params=_ADAPTERS)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BusHarness]:
    if request.param == "local":
        path = tmp_path / "bus.sqlite3"
        bus = LocalBus(
            path,
            lock_duration_s=LOCAL_LOCK_S,
            max_delivery_count=LOCAL_MAX_DELIVERY,
            poll_interval_s=0.02,
        )
        await bus.ensure_topology(
            [(LOCAL_TOPIC, LOCAL_SUB)] + [(LOCAL_FANOUT[0], s) for s in LOCAL_FANOUT[1]]
        )
        h = BusHarness(
            "local",
            bus,
            LOCAL_TOPIC,
            LOCAL_SUB,
            LOCAL_LOCK_S,
            LOCAL_MAX_DELIVERY,
            LOCAL_FANOUT,
            bus_path=path,
        )
    else:
        h = _servicebus_harness()
        await h.drain()
    try:
        yield h
    finally:
        await h.bus.close()


def _msg(h: BusHarness, body: bytes = b'{"n": 1}', **kw: object) -> OutgoingMessage:
    return OutgoingMessage(body=body, message_id=h.new_id(), **kw)  # type: ignore[arg-type]


async def test_publish_fans_out_to_every_subscription(harness: BusHarness) -> None:
    if harness.fanout is None:
        pytest.skip("no multi-subscription topic configured (SERVICEBUS_FANOUT=topic:s1,s2)")
    topic, subs = harness.fanout
    message = _msg(harness)
    await harness.bus.publish(topic, [message])
    for sub in subs:
        got = await harness.bus.receive(topic, sub, max_messages=10, max_wait_s=5)
        assert [m.message_id for m in got] == [message.message_id]
        assert got[0].topic == topic and got[0].subscription == sub
        await harness.bus.complete(got[0])


async def test_batch_is_received_in_publish_order(harness: BusHarness) -> None:
    sent = [_msg(harness, body=f'{{"n": {i}}}'.encode()) for i in range(5)]
    await harness.bus.publish(harness.topic, sent)
    received: list[ReceivedMessage] = []
    deadline = time.monotonic() + 10
    while len(received) < 5 and time.monotonic() < deadline:
        received += await harness.bus.receive(
            harness.topic, harness.subscription, max_messages=5 - len(received), max_wait_s=2
        )
    assert [m.message_id for m in received] == [m.message_id for m in sent]
    assert [m.body for m in received] == [m.body for m in sent]
    for m in received:
        assert m.delivery_count == 1
        await harness.bus.complete(m)


async def test_peek_lock_hides_message_until_settled(harness: BusHarness) -> None:
    await harness.bus.publish(harness.topic, [_msg(harness)])
    first = await harness.receive_one()
    assert first is not None
    assert first.locked_until is not None and first.locked_until > datetime.now(UTC)
    hidden = await harness.bus.receive(harness.topic, harness.subscription, max_wait_s=0.2)
    assert hidden == []
    await harness.bus.complete(first)


async def test_lock_expiry_redelivers_with_higher_delivery_count(harness: BusHarness) -> None:
    message = _msg(harness)
    await harness.bus.publish(harness.topic, [message])
    first = await harness.receive_one()
    assert first is not None and first.delivery_count == 1
    await asyncio.sleep(harness.lock_s + 0.1)
    again = await harness.receive_one(wait_s=harness.lock_s + 5)
    assert again is not None
    assert again.message_id == message.message_id
    assert again.delivery_count == 2
    with pytest.raises(LockLost):
        await harness.bus.complete(first)
    await harness.bus.complete(again)


async def test_late_settle_after_expiry_raises_lock_lost(harness: BusHarness) -> None:
    await harness.bus.publish(harness.topic, [_msg(harness)])
    got = await harness.receive_one()
    assert got is not None
    await asyncio.sleep(harness.lock_s + 0.2)
    with pytest.raises(LockLost):
        await harness.bus.complete(got)
    with pytest.raises(LockLost):
        await harness.bus.dead_letter(got, reason="late")
    again = await harness.receive_one(wait_s=harness.lock_s + 5)
    assert again is not None and again.message_id == got.message_id
    await harness.bus.complete(again)


async def test_complete_removes_message(harness: BusHarness) -> None:
    await harness.bus.publish(harness.topic, [_msg(harness)])
    got = await harness.receive_one()
    assert got is not None
    await harness.bus.complete(got)
    with pytest.raises(LockLost):
        await harness.bus.complete(got)
    later = await harness.bus.receive(
        harness.topic, harness.subscription, max_wait_s=harness.lock_s + 0.3
    )
    assert later == []


async def test_abandon_redelivers_immediately(harness: BusHarness) -> None:
    message = _msg(harness)
    await harness.bus.publish(harness.topic, [message])
    got = await harness.receive_one()
    assert got is not None
    await harness.bus.abandon(got)
    started = time.monotonic()
    again = await harness.receive_one(wait_s=harness.lock_s)
    assert again is not None and again.message_id == message.message_id
    assert again.delivery_count == 2
    assert time.monotonic() - started < harness.lock_s
    await harness.bus.complete(again)


async def test_renew_lock_keeps_message_invisible(harness: BusHarness) -> None:
    await harness.bus.publish(harness.topic, [_msg(harness)])
    got = await harness.receive_one()
    assert got is not None and got.locked_until is not None
    before = got.locked_until
    await asyncio.sleep(harness.lock_s * 0.6)
    renewed = await harness.bus.renew_lock(got)
    assert renewed > before
    await asyncio.sleep(harness.lock_s * 0.6)
    hidden = await harness.bus.receive(harness.topic, harness.subscription, max_wait_s=0.05)
    assert hidden == []
    await harness.bus.complete(got)


async def test_dead_letter_keeps_reason_body_and_properties(harness: BusHarness) -> None:
    props = {"traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01", "user_id": "42"}
    message = _msg(harness, body=b'{"bad": true}', application_properties=props)
    published_at = time.monotonic()
    await harness.bus.publish(harness.topic, [message])
    got = await harness.receive_one()
    assert got is not None
    await harness.bus.dead_letter(got, reason="ContractError", description="field x missing")
    assert await harness.bus.receive(harness.topic, harness.subscription, max_wait_s=0.2) == []
    letters = await harness.bus.list_dead_letters(harness.topic, harness.subscription)
    mine = [d for d in letters if d.message_id == message.message_id]
    assert len(mine) == 1
    assert mine[0].reason == "ContractError"
    assert mine[0].description == "field x missing"
    assert mine[0].body == b'{"bad": true}'
    assert mine[0].application_properties["traceparent"] == props["traceparent"]
    assert mine[0].application_properties["user_id"] == "42"
    # Browsing does not consume.
    again = await harness.bus.list_dead_letters(harness.topic, harness.subscription)
    assert message.message_id in {d.message_id for d in again}
    await harness.outlive_duplicate_detection(published_at)
    await harness.bus.replay_dead_letters(
        harness.topic, harness.subscription, message_ids=[message.message_id]
    )
    await harness.drain()


async def test_max_delivery_count_dead_letters(harness: BusHarness) -> None:
    message = _msg(harness)
    published_at = time.monotonic()
    await harness.bus.publish(harness.topic, [message])
    for attempt in range(1, harness.max_delivery + 1):
        got = await harness.receive_one(wait_s=5)
        assert got is not None, f"attempt {attempt} got nothing"
        assert got.delivery_count == attempt
        await harness.bus.abandon(got)
    assert await harness.bus.receive(harness.topic, harness.subscription, max_wait_s=0.3) == []
    letters = await harness.bus.list_dead_letters(harness.topic, harness.subscription)
    mine = [d for d in letters if d.message_id == message.message_id]
    assert len(mine) == 1
    assert mine[0].reason == "MaxDeliveryCountExceeded"
    assert mine[0].delivery_count >= harness.max_delivery
    await harness.outlive_duplicate_detection(published_at)
    await harness.bus.replay_dead_letters(
        harness.topic, harness.subscription, message_ids=[str(message.message_id)]
    )
    await harness.drain()


async def test_max_delivery_count_applies_to_lock_expiry(harness: BusHarness) -> None:
    if harness.kind != "local":
        pytest.skip("waiting max_delivery lock expiries is too slow on Service Bus")
    message = _msg(harness)
    await harness.bus.publish(harness.topic, [message])
    for _ in range(harness.max_delivery):
        got = await harness.receive_one(wait_s=harness.lock_s + 1)
        assert got is not None
    await asyncio.sleep(harness.lock_s + 0.1)
    assert await harness.bus.receive(harness.topic, harness.subscription, max_wait_s=0.1) == []
    letters = await harness.bus.list_dead_letters(harness.topic, harness.subscription)
    assert [(d.message_id, d.reason) for d in letters] == [
        (message.message_id, "MaxDeliveryCountExceeded")
    ]


async def test_scheduled_message_is_invisible_until_its_time(harness: BusHarness) -> None:
    delay = 1.0 if harness.kind == "local" else 5.0
    when = datetime.now(UTC) + timedelta(seconds=delay)
    message = _msg(harness, scheduled_enqueue_time=when)
    await harness.bus.publish(harness.topic, [message])
    early = await harness.bus.receive(harness.topic, harness.subscription, max_wait_s=delay * 0.5)
    assert early == []
    got = await harness.receive_one(wait_s=delay + 10)
    assert got is not None and got.message_id == message.message_id
    assert datetime.now(UTC) >= when - timedelta(milliseconds=50)
    await harness.bus.complete(got)


async def test_properties_and_headers_round_trip(harness: BusHarness) -> None:
    props = {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "congo=t61rcWkgMzE",
        "schema_version": 1,
        "user_id": "10129",
        "message_type": "SyncRequested",
        "flag": True,
    }
    message = _msg(
        harness,
        body=b"\x00\x01binary-ok\xff",
        application_properties=props,
        subject="sleep",
        correlation_id="corr-1",
        content_type="application/octet-stream",
    )
    await harness.bus.publish(harness.topic, [message])
    got = await harness.receive_one()
    assert got is not None
    assert got.message_id == message.message_id
    assert got.body == b"\x00\x01binary-ok\xff"
    for key, value in props.items():
        assert got.application_properties[key] == value
    assert got.subject == "sleep"
    assert got.correlation_id == "corr-1"
    assert got.content_type == "application/octet-stream"
    assert got.enqueued_time <= datetime.now(UTC) + timedelta(seconds=5)
    await harness.bus.complete(got)


async def test_replay_resends_dead_letters_with_same_id_body_and_trace(
    harness: BusHarness,
) -> None:
    props = {"traceparent": "00-" + "12" * 16 + "-" + "34" * 8 + "-01", "schema_version": 1}
    keep = _msg(harness, body=b'{"keep": 1}', application_properties=props)
    other = _msg(harness, body=b'{"other": 1}')
    published_at = time.monotonic()
    await harness.bus.publish(harness.topic, [keep, other])
    for _ in range(2):
        got = await harness.receive_one()
        assert got is not None
        await harness.bus.dead_letter(got, reason="Boom", description="handler failed")
    await harness.outlive_duplicate_detection(published_at)
    replayed = await harness.bus.replay_dead_letters(
        harness.topic, harness.subscription, message_ids=[str(keep.message_id)]
    )
    assert replayed == 1
    got = await harness.receive_one(wait_s=5)
    assert got is not None
    assert got.message_id == keep.message_id
    assert got.body == b'{"keep": 1}'
    assert got.application_properties["traceparent"] == props["traceparent"]
    assert got.application_properties["schema_version"] == 1
    assert got.delivery_count == 1
    await harness.bus.complete(got)
    remaining = await harness.bus.list_dead_letters(harness.topic, harness.subscription)
    ids = {d.message_id for d in remaining}
    assert other.message_id in ids and keep.message_id not in ids
    assert await harness.bus.replay_dead_letters(harness.topic, harness.subscription) >= 1
    got = await harness.receive_one(wait_s=5)
    assert got is not None and got.message_id == other.message_id
    await harness.bus.complete(got)


async def test_receive_wakes_promptly_when_a_message_arrives(harness: BusHarness) -> None:
    """An in-process publish wakes a waiting receive without waiting for the next poll.

    No stopwatch (the suite must pass on a busy machine): the receiving bus polls only every
    60 s and waits at most 10 s, so only the wake-up can deliver the message in time.
    """
    if harness.kind != "local":
        pytest.skip("wake-up on publish is a LocalBus promise (the hot path of the local pipeline)")
    assert harness.bus_path is not None
    slow = LocalBus(harness.bus_path, lock_duration_s=LOCAL_LOCK_S, poll_interval_s=60.0)
    try:
        waiter = asyncio.create_task(
            slow.receive(harness.topic, harness.subscription, max_wait_s=10)
        )
        await asyncio.sleep(0.2)
        await slow.publish(harness.topic, [_msg(harness)])
        got = await waiter
        assert got, "the publish did not wake the waiting receive"
        await slow.complete(got[0])
    finally:
        await slow.close()


async def test_receive_sees_other_process_publish_within_poll_interval(
    harness: BusHarness,
) -> None:
    """Another connection's publish is found by polling while the receive still waits."""
    if harness.kind != "local":
        pytest.skip("cross-process polling is LocalBus-specific")
    assert harness.bus_path is not None
    other = LocalBus(harness.bus_path, lock_duration_s=LOCAL_LOCK_S)  # another connection
    try:
        waiter = asyncio.create_task(harness.receive_one(wait_s=10))
        await asyncio.sleep(0.2)
        await other.publish(harness.topic, [_msg(harness)])
        got = await waiter
        assert got is not None
        await harness.bus.complete(got)
    finally:
        await other.close()


_WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from shared.adapters.bus.local import LocalBus

    async def main(path, out, peer, topic, sub):
        bus = LocalBus(Path(path), lock_duration_s=10, poll_interval_s=0.02)
        await bus.receive(topic, sub, max_wait_s=0)  # connected and polling
        Path(out + ".ready").touch()
        seen = []
        idle = 0
        # Stop only once everything is published and the queue stays empty (no wall-clock
        # race with a slow start of the other worker on a busy machine).
        while idle < 15 or not Path(path + ".published").exists():
            got = await bus.receive(topic, sub, max_messages=4, max_wait_s=0.1)
            if not got:
                idle += 1
                continue
            idle = 0
            for m in got:
                seen.append(m.message_id)
                await bus.complete(m)
            if not Path(out + ".took").exists():
                # Hand-shake: after its first batch each worker waits until the other has
                # one too, so "both took a share" does not depend on the scheduler.
                Path(out + ".took").touch()
                deadline = time.monotonic() + 60
                while not Path(peer + ".took").exists() and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
        await bus.close()
        Path(out).write_text(json.dumps(seen))

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_two_processes_process_every_message_exactly_once(
    harness: BusHarness, tmp_path: Path
) -> None:
    if harness.kind != "local":
        pytest.skip("cross-process safety is a LocalBus concern; Service Bus is a server")
    assert harness.bus_path is not None
    total = 300
    sent = [_msg(harness, body=json.dumps({"i": i}).encode()) for i in range(total)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    outs = [tmp_path / f"worker{i}.json" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(harness.bus_path), str(out)]
            + [str(outs[1 - i]), harness.topic, harness.subscription],
            env=env,
        )
        for i, out in enumerate(outs)
    ]
    deadline = time.monotonic() + 30  # both must be polling before we publish, so they compete
    while not all(Path(f"{out}.ready").exists() for out in outs):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), "a worker died during start-up"
        await asyncio.sleep(0.05)
    for i in range(0, total, 50):
        await harness.bus.publish(harness.topic, sent[i : i + 50])
    Path(f"{harness.bus_path}.published").touch()
    for proc in procs:
        assert await asyncio.to_thread(proc.wait, 60) == 0
    seen = [json.loads(out.read_text()) for out in outs]
    everything = seen[0] + seen[1]
    assert len(everything) == total, "a message was lost or processed twice"
    assert set(everything) == {m.message_id for m in sent}
    assert seen[0] and seen[1], "both processes should have taken a share"
