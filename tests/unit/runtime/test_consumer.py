"""Settlement rules of the shared consumer loop, driven through an in-memory bus fake."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.contracts import SyncRequested, Topic, encode
from shared.errors import TerminalError, TransientError
from shared.ports.bus import DeadLetter, MessageBus, OutgoingMessage, ReceivedMessage
from shared.runtime import Consumer, Delivery
from shared.telemetry import inject_trace

NOW = datetime(2026, 11, 27, tzinfo=UTC)


class FakeBus(MessageBus):
    """Records settlements; subclasses the port so it cannot drift from it."""

    def __init__(self) -> None:
        self.queue: list[ReceivedMessage] = []
        self.completed: list[str] = []
        self.abandoned: list[str] = []
        self.dead: list[tuple[str, str, str]] = []
        self.renewed = 0

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        for i, m in enumerate(messages):
            self.queue.append(
                ReceivedMessage(
                    topic=topic,
                    subscription="s",
                    message_id=m.message_id or f"m{len(self.queue)}-{i}",
                    body=m.body,
                    application_properties=dict(m.application_properties),
                    delivery_count=1,
                    enqueued_time=NOW,
                    locked_until=NOW + timedelta(seconds=30),
                )
            )

    async def receive(
        self, topic: str, subscription: str, *, max_messages: int = 1, max_wait_s: float = 5.0
    ) -> list[ReceivedMessage]:
        taken, self.queue = self.queue[:max_messages], self.queue[max_messages:]
        if not taken:  # like the real buses: an empty poll waits for max_wait_s
            await asyncio.sleep(max_wait_s)
        return taken

    async def complete(self, message: ReceivedMessage) -> None:
        self.completed.append(message.message_id)

    async def abandon(self, message: ReceivedMessage) -> None:
        self.abandoned.append(message.message_id)

    async def dead_letter(
        self, message: ReceivedMessage, *, reason: str, description: str = ""
    ) -> None:
        self.dead.append((message.message_id, reason, description))

    async def renew_lock(self, message: ReceivedMessage) -> datetime:
        self.renewed += 1
        return NOW

    async def list_dead_letters(
        self, topic: str, subscription: str, *, max_messages: int = 100
    ) -> list[DeadLetter]:
        return []

    async def replay_dead_letters(
        self, topic: str, subscription: str, *, message_ids: Sequence[str] | None = None
    ) -> int:
        return 0


async def _send(bus: FakeBus, user_id: int = 7, message_id: str = "m1") -> None:
    body, props = encode(SyncRequested(user_id=user_id, requested_at=NOW))
    await bus.publish(
        Topic.SYNC_REQUESTED.value,
        [
            OutgoingMessage(
                body=body, application_properties=inject_trace(props), message_id=message_id
            )
        ],
    )


async def test_success_completes() -> None:
    bus = FakeBus()
    seen: list[int] = []

    async def handle(payload: Any, msg: ReceivedMessage) -> None:
        seen.append(payload.user_id)

    await _send(bus)
    consumer = Consumer(bus, Topic.SYNC_REQUESTED, "extractor", handler=handle)
    await consumer.process(await bus.receive("t", "s"))
    assert seen == [7] and bus.completed == ["m1"] and consumer.processed == 1


@pytest.mark.parametrize(
    ("error", "expect_dead"),
    [
        (TerminalError("bad record"), True),
        (TransientError("429"), False),
        (RuntimeError("?"), False),
    ],
)
async def test_failures_settle_by_error_kind(error: Exception, expect_dead: bool) -> None:
    bus = FakeBus()

    async def handle(payload: Any, msg: ReceivedMessage) -> None:
        raise error

    await _send(bus)
    consumer = Consumer(bus, Topic.SYNC_REQUESTED, "extractor", handler=handle)
    await consumer.process(await bus.receive("t", "s"))
    assert bus.completed == []
    if expect_dead:
        assert bus.dead == [("m1", "TerminalError", "bad record")]
        assert bus.abandoned == []
    else:
        assert bus.abandoned == ["m1"] and bus.dead == []


async def test_poison_message_is_dead_lettered_with_contract_reason() -> None:
    bus = FakeBus()
    await bus.publish(Topic.SYNC_REQUESTED.value, [OutgoingMessage(body=b"{oops", message_id="p")])

    async def handle(payload: Any, msg: ReceivedMessage) -> None:
        raise AssertionError("must not be called")

    consumer = Consumer(bus, Topic.SYNC_REQUESTED, "extractor", handler=handle)
    await consumer.process(await bus.receive("t", "s"))
    assert [(d[0], d[1]) for d in bus.dead] == [("p", "ContractError")]


async def test_batch_handler_settles_all_together() -> None:
    bus = FakeBus()
    for i in range(3):
        await _send(bus, user_id=i + 1, message_id=f"m{i}")
    batches: list[list[int]] = []

    async def handle_batch(deliveries: Sequence[Delivery]) -> None:
        batches.append([d.payload.user_id for d in deliveries])

    consumer = Consumer(
        bus, Topic.SYNC_REQUESTED, "extractor", batch_handler=handle_batch, max_messages=10
    )
    await consumer.process(await bus.receive("t", "s", max_messages=10))
    assert batches == [[1, 2, 3]] and bus.completed == ["m0", "m1", "m2"]


async def test_long_handler_renews_its_lock() -> None:
    bus = FakeBus()
    await _send(bus)

    async def slow(payload: Any, msg: ReceivedMessage) -> None:
        await asyncio.sleep(0.12)

    consumer = Consumer(
        bus, Topic.SYNC_REQUESTED, "extractor", handler=slow, lock_renew_interval_s=0.03
    )
    await consumer.process(await bus.receive("t", "s"))
    assert bus.renewed >= 2 and bus.completed == ["m1"]


async def test_consumer_span_continues_the_publishers_trace() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    bus = FakeBus()
    with tracer.start_as_current_span("webhook") as root:
        await _send(bus)
        trace_id = root.get_span_context().trace_id

    async def handle(payload: Any, msg: ReceivedMessage) -> None:
        assert trace.get_current_span().get_span_context().trace_id == trace_id

    consumer = Consumer(bus, Topic.SYNC_REQUESTED, "extractor", handler=handle)
    consumer._tracer = tracer
    await consumer.process(await bus.receive("t", "s"))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["consume whoop.sync-requested"].context.trace_id == trace_id
    assert bus.completed == ["m1"]


def test_handler_and_batch_handler_are_exclusive() -> None:
    with pytest.raises(ValueError):
        Consumer(FakeBus(), Topic.SYNC_REQUESTED, "x")


async def _run_until(consumer: Consumer, done: asyncio.Event, timeout_s: float = 5.0) -> None:
    """Drive ``Consumer.run`` (the real loop) until ``done``, then stop it and let it drain."""
    stop = asyncio.Event()
    runner = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(done.wait(), timeout_s)
    stop.set()
    await asyncio.wait_for(runner, timeout_s)


async def test_concurrent_batches_overlap_and_settle_each() -> None:
    """With concurrency 2 the second batch starts while the first is still running."""
    bus = FakeBus()
    for i in range(4):
        await _send(bus, user_id=i + 1, message_id=f"m{i}")
    first_started = asyncio.Event()
    second_started = asyncio.Event()
    all_done = asyncio.Event()
    order: list[str] = []

    async def handle_batch(deliveries: Sequence[Delivery]) -> None:
        ids = [d.payload.user_id for d in deliveries]
        if ids == [1, 2]:
            first_started.set()
            # would time out if the consumer waited for this batch before receiving the next
            await asyncio.wait_for(second_started.wait(), 2.0)
            order.append("first")
        else:
            second_started.set()
            order.append("second")
        if len(order) == 2:
            all_done.set()

    consumer = Consumer(
        bus,
        Topic.SYNC_REQUESTED,
        "loader",
        batch_handler=handle_batch,
        max_messages=2,
        max_wait_s=0.01,
        concurrency=2,
    )
    await _run_until(consumer, all_done)
    assert order == ["second", "first"]
    assert sorted(bus.completed) == ["m0", "m1", "m2", "m3"] and consumer.processed == 4


async def test_concurrency_one_handles_batches_one_after_another() -> None:
    bus = FakeBus()
    for i in range(4):
        await _send(bus, user_id=i + 1, message_id=f"m{i}")
    running = 0
    peak = 0
    done = asyncio.Event()
    handled: list[int] = []

    async def handle_batch(deliveries: Sequence[Delivery]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        handled.extend(d.payload.user_id for d in deliveries)
        running -= 1
        if len(handled) == 4:
            done.set()

    consumer = Consumer(
        bus, Topic.SYNC_REQUESTED, "loader", batch_handler=handle_batch, max_messages=2,
        max_wait_s=0.01,
    )  # fmt: skip
    await _run_until(consumer, done)
    assert peak == 1 and handled == [1, 2, 3, 4]


async def test_stop_waits_for_in_flight_concurrent_batches() -> None:
    bus = FakeBus()
    for i in range(2):
        await _send(bus, user_id=i + 1, message_id=f"m{i}")
    started = asyncio.Event()

    async def handle_batch(deliveries: Sequence[Delivery]) -> None:
        started.set()
        await asyncio.sleep(0.05)

    consumer = Consumer(
        bus, Topic.SYNC_REQUESTED, "loader", batch_handler=handle_batch, max_messages=2,
        max_wait_s=0.01, concurrency=3,
    )  # fmt: skip
    await _run_until(consumer, started)  # stop is set while the batch is still sleeping
    assert bus.completed == ["m0", "m1"]


def test_concurrency_must_be_positive() -> None:
    async def handle_batch(deliveries: Sequence[Delivery]) -> None:
        return None

    with pytest.raises(ValueError, match="concurrency"):
        Consumer(FakeBus(), Topic.SYNC_REQUESTED, "x", batch_handler=handle_batch, concurrency=0)


async def test_service_is_healthy_and_consuming_while_its_warm_up_still_runs(tmp_path) -> None:
    """A slow warm-up (dbt parse, a rescore after a crash) no longer gates health or intake."""
    from shared.runtime import ServiceRunner

    bus = FakeBus()
    handled: list[Any] = []

    async def handle(payload: Any, message: ReceivedMessage) -> None:
        handled.append(payload)

    consumer = Consumer(bus, Topic.SYNC_REQUESTED, "extractor", handler=handle, max_wait_s=0.01)
    runner = ServiceRunner("svc", [consumer], health_dir=tmp_path, heartbeat_s=0.01)
    release = asyncio.Event()

    async def warm_up() -> None:
        await release.wait()

    service = asyncio.create_task(runner.run(start=warm_up))
    await _send(bus)
    for _ in range(500):
        if handled and (tmp_path / "svc.json").exists():
            break
        await asyncio.sleep(0.01)
    assert handled and (tmp_path / "svc.json").exists()
    assert not release.is_set()  # still warming up
    release.set()
    runner.stop.set()
    await service


async def test_a_failing_warm_up_stops_the_service_with_its_error(tmp_path) -> None:
    from shared.runtime import ServiceRunner

    runner = ServiceRunner("svc", [], health_dir=tmp_path, heartbeat_s=0.01)

    async def warm_up() -> None:
        raise RuntimeError("model artefact unreadable")

    with pytest.raises(RuntimeError, match="unreadable"):
        await runner.run(start=warm_up)
    assert not (tmp_path / "svc.json").exists()
