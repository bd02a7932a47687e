"""ServiceBusBus mapping onto the SDK, checked against a THIN FAKE of the SDK's client,
sender and receiver (no Service Bus, no emulator: nothing here proves broker behaviour; the
contract suite does that when SERVICEBUS_CONNECTION_STRING is set).

What these tests pin down: which SDK calls settlement makes, how properties, ids, sessions and
delivery counts are translated, and how SDK exceptions map to LockLost / TransientError.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.servicebus import NEXT_AVAILABLE_SESSION, ServiceBusReceiveMode, ServiceBusSubQueue
from azure.servicebus.exceptions import (
    MessageAlreadySettled,
    MessageLockLostError,
    MessageSizeExceededError,
    MessagingEntityNotFoundError,
    OperationTimeoutError,
    ServiceBusConnectionError,
)
from pydantic import SecretStr

from shared.adapters.bus.servicebus import (
    PublishTooLarge,
    ServiceBusBus,
    ServiceBusEntityNotFound,
    ServiceBusHandle,
    ServiceBusUnavailable,
)
from shared.errors import ConfigurationError, TransientError
from shared.ports.bus import LockLost, OutgoingMessage
from shared.settings import PlatformSettings

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class FakeSdkMessage:
    """Shape of ``ServiceBusReceivedMessage`` as the SDK hands it out (bytes props!)."""

    message_id: str
    body: Any = field(default_factory=lambda: iter([b'{"a":', b" 1}"]))
    application_properties: dict[Any, Any] | None = field(
        default_factory=lambda: {b"traceparent": TRACEPARENT.encode(), b"schema_version": 1}
    )
    delivery_count: int = 0
    enqueued_time_utc: datetime = NOW
    locked_until_utc: datetime | None = NOW + timedelta(seconds=30)
    subject: str | None = "sleep"
    correlation_id: str | None = None
    session_id: str | None = None
    content_type: str | None = "application/json"
    dead_letter_reason: str | None = None
    dead_letter_error_description: str | None = None
    sequence_number: int = 7


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[list[Any]] = []
        self.fail_with: Exception | None = None
        self.closed = False

    async def send_messages(self, messages: list[Any]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(list(messages))

    async def close(self) -> None:
        self.closed = True


class FakeReceiver:
    def __init__(self, queue: list[FakeSdkMessage] | None = None) -> None:
        self.queue = list(queue or [])
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []
        self.fail_settle: Exception | None = None
        self.fail_receive: Exception | None = None
        self.closed = False
        self.session = None

    async def receive_messages(
        self, max_message_count: int | None = None, max_wait_time: float | None = None
    ) -> list[Any]:
        self.calls.append(("receive", max_message_count, {"max_wait_time": max_wait_time}))
        if self.fail_receive is not None:
            raise self.fail_receive
        n = max_message_count or 1
        got, self.queue = self.queue[:n], self.queue[n:]
        return got

    async def peek_messages(self, max_message_count: int = 1, **kwargs: Any) -> list[Any]:
        self.calls.append(("peek", max_message_count, kwargs))
        return self.queue[:max_message_count]

    async def _settle(self, name: str, message: Any, **kwargs: Any) -> None:
        self.calls.append((name, message, kwargs))
        if self.fail_settle is not None:
            raise self.fail_settle

    async def complete_message(self, message: Any) -> None:
        await self._settle("complete", message)

    async def abandon_message(self, message: Any) -> None:
        await self._settle("abandon", message)

    async def dead_letter_message(
        self, message: Any, reason: str | None = None, error_description: str | None = None
    ) -> None:
        await self._settle(
            "dead_letter", message, reason=reason, error_description=error_description
        )

    async def renew_message_lock(self, message: Any, **kwargs: Any) -> datetime:
        await self._settle("renew", message)
        return NOW + timedelta(seconds=60)

    async def close(self) -> None:
        self.closed = True


class FakeClient:
    """Only the two getters ServiceBusBus calls, recording their keyword arguments."""

    def __init__(self) -> None:
        self.senders: dict[str, FakeSender] = {}
        self.receivers: dict[tuple[str, str, Any], list[FakeReceiver]] = {}
        self.receiver_kwargs: list[dict[str, Any]] = []
        self.closed = False

    def get_topic_sender(self, topic_name: str) -> FakeSender:
        return self.senders.setdefault(topic_name, FakeSender())

    def get_subscription_receiver(self, **kwargs: Any) -> FakeReceiver:
        self.receiver_kwargs.append(kwargs)
        key = (kwargs["topic_name"], kwargs["subscription_name"], kwargs.get("sub_queue"))
        pending = self.receivers.get(key) or [FakeReceiver()]
        receiver = pending.pop(0) if len(pending) > 1 else pending[0]
        return receiver

    async def close(self) -> None:
        self.closed = True


def _bus(client: FakeClient, **kw: Any) -> ServiceBusBus:
    return ServiceBusBus(client, prefetch=5, **kw)


async def test_servicebus_mapping_with_fake_sdk_publish_sends_one_batch_with_all_fields() -> None:
    client = FakeClient()
    bus = _bus(client)
    when = NOW + timedelta(minutes=5)
    await bus.publish(
        "whoop.sync-requested",
        [
            OutgoingMessage(
                body=b'{"x": 1}',
                application_properties={
                    "traceparent": TRACEPARENT,
                    "schema_version": 1,
                    "user_id": "10129",
                    "missing": None,
                },
                message_id="m-1",
                subject="sync",
                correlation_id="c-1",
                scheduled_enqueue_time=when,
            ),
            OutgoingMessage(body=b"{}"),
        ],
    )
    sender = client.senders["whoop.sync-requested"]
    assert len(sender.sent) == 1 and len(sender.sent[0]) == 2  # one atomic batch
    first, second = sender.sent[0]
    assert first.message_id == "m-1"
    assert b"".join(first.body) == b'{"x": 1}'
    assert first.application_properties == {
        "traceparent": TRACEPARENT,
        "schema_version": 1,
        "user_id": "10129",
    }
    assert first.subject == "sync"
    assert first.correlation_id == "c-1"
    assert first.content_type == "application/json"
    assert first.scheduled_enqueue_time_utc == when
    assert first.session_id is None
    assert second.message_id  # generated for duplicate detection


async def test_servicebus_mapping_with_fake_sdk_sessions_are_keyed_by_user() -> None:
    client = FakeClient()
    bus = _bus(client, use_sessions=True)
    await bus.publish(
        "t",
        [
            OutgoingMessage(body=b"1", application_properties={"user_id": "42"}),
            OutgoingMessage(body=b"2"),
            OutgoingMessage(body=b"3", application_properties={"user_id": "42"}, session_id="s"),
        ],
    )
    sessions = [m.session_id for m in client.senders["t"].sent[0]]
    assert sessions == ["42", "_shared", "s"]
    await bus.receive("t", "sub", max_wait_s=0.1)
    assert client.receiver_kwargs[-1]["session_id"] == NEXT_AVAILABLE_SESSION


async def test_servicebus_mapping_with_fake_sdk_receive_decodes_properties_and_counts() -> None:
    client = FakeClient()
    receiver = FakeReceiver([FakeSdkMessage("m-1", delivery_count=0)])
    client.receivers[("t", "sub", None)] = [receiver]
    bus = _bus(client)
    got = await bus.receive("t", "sub", max_messages=10, max_wait_s=2)
    assert len(got) == 1
    msg = got[0]
    assert msg.message_id == "m-1"
    assert msg.body == b'{"a": 1}'
    assert msg.application_properties == {"traceparent": TRACEPARENT, "schema_version": 1}
    assert msg.delivery_count == 1  # AMQP counts prior attempts; the port counts this one
    assert msg.locked_until == NOW + timedelta(seconds=30)
    assert (msg.topic, msg.subscription, msg.subject) == ("t", "sub", "sleep")
    assert isinstance(msg.raw, ServiceBusHandle) and msg.raw.receiver is receiver
    kwargs = client.receiver_kwargs[0]
    assert kwargs["receive_mode"] == ServiceBusReceiveMode.PEEK_LOCK
    assert kwargs["prefetch_count"] == 5
    assert "session_id" not in kwargs
    assert receiver.calls[0] == ("receive", 10, {"max_wait_time": 2})
    # The receiver is cached: settlement must use the one that holds the lock.
    await bus.receive("t", "sub", max_wait_s=0.1)
    assert len(client.receiver_kwargs) == 1


async def test_servicebus_mapping_with_fake_sdk_settlement_calls_the_locking_receiver() -> None:
    client = FakeClient()
    sdk_msgs = [FakeSdkMessage(f"m-{i}") for i in range(4)]
    receiver = FakeReceiver(sdk_msgs)
    client.receivers[("t", "sub", None)] = [receiver]
    bus = _bus(client)
    a, b, c, d = await bus.receive("t", "sub", max_messages=4)
    await bus.complete(a)
    await bus.abandon(b)
    await bus.dead_letter(c, reason="ContractError", description="bad field")
    renewed = await bus.renew_lock(d)
    assert renewed == NOW + timedelta(seconds=60) and d.locked_until == renewed
    settled = [(name, m.message_id, kw) for name, m, kw in receiver.calls[1:]]
    assert settled == [
        ("complete", "m-0", {}),
        ("abandon", "m-1", {}),
        ("dead_letter", "m-2", {"reason": "ContractError", "error_description": "bad field"}),
        ("renew", "m-3", {}),
    ]
    assert c.dead_letter_reason == "ContractError"


@pytest.mark.parametrize(
    "error", [MessageLockLostError(), MessageAlreadySettled(action="complete")]
)
async def test_servicebus_mapping_with_fake_sdk_lost_lock_maps_to_lock_lost(
    error: Exception,
) -> None:
    client = FakeClient()
    receiver = FakeReceiver([FakeSdkMessage("m-1")])
    client.receivers[("t", "sub", None)] = [receiver]
    bus = _bus(client)
    (msg,) = await bus.receive("t", "sub")
    receiver.fail_settle = error
    with pytest.raises(LockLost):
        await bus.complete(msg)
    with pytest.raises(LockLost):
        await bus.renew_lock(msg)


async def test_servicebus_mapping_with_fake_sdk_connection_errors_are_transient() -> None:
    client = FakeClient()
    broken = FakeReceiver()
    broken.fail_receive = ServiceBusConnectionError(message="link detached")
    healthy = FakeReceiver([FakeSdkMessage("m-1")])
    client.receivers[("t", "sub", None)] = [broken, healthy]
    bus = _bus(client)
    with pytest.raises(ServiceBusUnavailable) as info:
        await bus.receive("t", "sub")
    assert isinstance(info.value, TransientError)
    assert broken.closed  # a broken link is dropped and rebuilt on the next call
    got = await bus.receive("t", "sub")
    assert [m.message_id for m in got] == ["m-1"]
    client.senders["t"] = FakeSender()
    client.senders["t"].fail_with = ServiceBusConnectionError(message="down")
    with pytest.raises(ServiceBusUnavailable):
        await bus.publish("t", [OutgoingMessage(body=b"x")])
    client.senders["t"].fail_with = MessagingEntityNotFoundError(message="no such topic")
    with pytest.raises(ServiceBusEntityNotFound):
        await bus.publish("t", [OutgoingMessage(body=b"x")])
    client.senders["t"].fail_with = MessageSizeExceededError(message="batch too big")
    with pytest.raises(PublishTooLarge):
        await bus.publish("t", [OutgoingMessage(body=b"x")])


async def test_servicebus_mapping_with_fake_sdk_dead_letters_are_peeked_from_the_dlq() -> None:
    client = FakeClient()
    dlq = FakeReceiver(
        [
            FakeSdkMessage(
                "m-1",
                delivery_count=9,
                dead_letter_reason="MaxDeliveryCountExceeded",
                dead_letter_error_description="10 attempts",
            )
        ]
    )
    client.receivers[("t", "sub", ServiceBusSubQueue.DEAD_LETTER)] = [dlq]
    bus = _bus(client)
    letters = await bus.list_dead_letters("t", "sub", max_messages=25)
    assert [(d.message_id, d.reason, d.description, d.delivery_count) for d in letters] == [
        ("m-1", "MaxDeliveryCountExceeded", "10 attempts", 10)
    ]
    assert letters[0].application_properties["traceparent"] == TRACEPARENT
    assert letters[0].body == b'{"a": 1}'
    assert dlq.calls == [("peek", 25, {})]
    assert dlq.closed
    assert client.receiver_kwargs[0]["sub_queue"] == ServiceBusSubQueue.DEAD_LETTER


async def test_servicebus_mapping_with_fake_sdk_replay_resends_copies_then_completes() -> None:
    client = FakeClient()
    msgs = [
        FakeSdkMessage("m-1", correlation_id="c-1"),
        FakeSdkMessage("m-2"),
        FakeSdkMessage("m-3"),
    ]
    dlq = FakeReceiver(msgs)
    client.receivers[("t", "sub", ServiceBusSubQueue.DEAD_LETTER)] = [dlq]
    bus = _bus(client)
    count = await bus.replay_dead_letters("t", "sub", message_ids=["m-1", "m-3"])
    assert count == 2
    resent = [m for batch in client.senders["t"].sent for m in batch]
    assert [m.message_id for m in resent] == ["m-1", "m-3"]
    assert resent[0].application_properties == {"traceparent": TRACEPARENT, "schema_version": 1}
    assert b"".join(resent[0].body) == b'{"a": 1}'
    assert resent[0].correlation_id == "c-1"
    settled = [(name, m.message_id) for name, m, _ in dlq.calls if name != "receive"]
    assert settled == [("complete", "m-1"), ("complete", "m-3"), ("abandon", "m-2")]
    assert dlq.closed


async def test_servicebus_mapping_with_fake_sdk_from_settings_needs_a_namespace() -> None:
    with pytest.raises(ConfigurationError):
        ServiceBusBus.from_settings(PlatformSettings())
    bus = ServiceBusBus.from_settings(
        PlatformSettings(
            servicebus_connection_string=SecretStr(
                "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;"
                "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;"
            ),
            servicebus_use_sessions=True,
            servicebus_prefetch=3,
        )
    )
    assert bus.use_sessions and bus.prefetch == 3
    assert ("storage.blob-events", "loader") in await bus.subscriptions()
    await bus.close()


async def test_servicebus_mapping_with_fake_sdk_idle_session_is_released() -> None:
    client = FakeClient()
    idle = FakeReceiver()
    no_session = FakeReceiver()
    no_session.fail_receive = OperationTimeoutError(message="no session available")
    client.receivers[("t", "sub", None)] = [idle, no_session, FakeReceiver()]
    bus = _bus(client, use_sessions=True)
    assert await bus.receive("t", "sub", max_wait_s=0.1) == []
    assert idle.closed  # a dry session is given back so another replica can take it
    assert await bus.receive("t", "sub", max_wait_s=0.1) == []  # timeout = idle, not an error
    assert no_session.closed
    await bus.receive("t", "sub", max_wait_s=0.1)
    assert len(client.receiver_kwargs) == 3
    assert all(k["session_id"] == NEXT_AVAILABLE_SESSION for k in client.receiver_kwargs)


class OverlapDetectingReceiver(FakeReceiver):
    """Fails the test if two calls are ever inside the receiver at once (not coroutine-safe)."""

    def __init__(self, queue: list[FakeSdkMessage]) -> None:
        super().__init__(queue)
        self.inside = 0
        self.max_inside = 0

    async def _enter(self) -> None:
        self.inside += 1
        self.max_inside = max(self.max_inside, self.inside)
        await asyncio.sleep(0.01)  # give another coroutine the chance to overlap
        self.inside -= 1

    async def receive_messages(
        self, max_message_count: int | None = None, max_wait_time: float | None = None
    ) -> list[Any]:
        await self._enter()
        return await super().receive_messages(max_message_count, max_wait_time)

    async def _settle(self, name: str, message: Any, **kwargs: Any) -> None:
        await self._enter()
        await super()._settle(name, message, **kwargs)


async def test_servicebus_mapping_with_fake_sdk_receiver_calls_never_overlap() -> None:
    """A concurrent consumer settles one batch while receiving the next: serialised per
    subscription, since the SDK's async receiver is not coroutine-safe."""
    client = FakeClient()
    receiver = OverlapDetectingReceiver([FakeSdkMessage(f"m-{i}") for i in range(6)])
    client.receivers[("t", "sub", None)] = [receiver]
    bus = _bus(client)
    first = await bus.receive("t", "sub", max_messages=3)
    results = await asyncio.gather(
        bus.receive("t", "sub", max_messages=3),
        *(bus.complete(m) for m in first),
        *(bus.renew_lock(m) for m in first),
    )
    assert [m.message_id for m in results[0]] == ["m-3", "m-4", "m-5"]
    assert receiver.max_inside == 1
