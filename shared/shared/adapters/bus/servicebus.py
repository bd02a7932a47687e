"""``ServiceBusBus``: the MessageBus port on Azure Service Bus (azure-servicebus, async).

Mapping onto the port (the contract suite checks both adapters the same way):

* ``publish`` → one ``send_messages(list)`` per call: the SDK sends a list as a single batch,
  which Service Bus accepts or refuses as a whole (a list larger than one batch, 256 KB/1 MB
  by tier, raises ``MessageSizeExceededError`` rather than being split non-atomically).
  ``message_id`` feeds duplicate detection; application properties carry ``traceparent``,
  ``schema_version`` and ``user_id``. With ``servicebus_use_sessions`` the session id is the
  message's ``session_id`` or else its ``user_id`` property, for per-user ordering.
* ``receive`` → a cached peek-lock receiver per subscription (settlement must go through the
  receiver that locked the message, so it rides along in ``ReceivedMessage.raw``).
* Delivery count: the AMQP header counts *prior* attempts (0 on first delivery); the port,
  like .NET's ``DeliveryCount``, says 1 on first delivery, so we add one.
* Lock and max-delivery settings belong to the subscription (Terraform / emulator config),
  not to this client. ``renew_lock`` renews one message; session locks are kept alive by an
  ``AutoLockRenewer`` while we hold a session.
* Received keys and string values of application properties arrive as ``bytes``; they are
  decoded to ``str`` so both adapters return the same thing.
* DLQ: ``peek`` on the ``DEAD_LETTER`` sub-queue to browse; replay receives from it, re-sends a
  copy (same body, id, properties, trace) to the topic and completes the DLQ copy.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from azure.servicebus import (
    NEXT_AVAILABLE_SESSION,
    ServiceBusMessage,
    ServiceBusReceiveMode,
    ServiceBusSubQueue,
)
from azure.servicebus.exceptions import (
    MessageAlreadySettled,
    MessageLockLostError,
    MessageSizeExceededError,
    MessagingEntityNotFoundError,
    OperationTimeoutError,
    ServiceBusCommunicationError,
    ServiceBusConnectionError,
    ServiceBusServerBusyError,
    SessionLockLostError,
)

from shared.contracts import SUBSCRIPTIONS
from shared.errors import ConfigurationError, TerminalError, TransientError
from shared.ports.bus import DeadLetter, LockLost, MessageBus, OutgoingMessage, ReceivedMessage
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

#: The AMQP header counts prior deliveries; the port counts this one too.
SDK_DELIVERY_COUNT_OFFSET = 1
#: Session id for messages without a user when sessions are on (Service Bus requires one).
DEFAULT_SESSION_ID = "_shared"
#: How long we keep renewing a held session's lock.
SESSION_LOCK_RENEWAL_S = 600.0

_TRANSIENT = (
    ServiceBusConnectionError,
    ServiceBusServerBusyError,
    ServiceBusCommunicationError,
    OperationTimeoutError,
)
_LOCK_LOST = (MessageLockLostError, SessionLockLostError, MessageAlreadySettled)


class ServiceBusUnavailable(TransientError):
    """Connection trouble, throttling or a timeout talking to Service Bus; retry later."""


class PublishTooLarge(TerminalError):
    """The messages of one ``publish`` do not fit in one Service Bus batch.

    Splitting would silently break the port's all-or-none promise, so the caller must publish
    smaller groups (or smaller bodies: put payloads in blob storage and send the path).
    """


class ServiceBusEntityNotFound(TerminalError):
    """The topic or subscription does not exist (IaC and ``shared.contracts`` disagree)."""


class _Receiver(Protocol):
    """The slice of ``ServiceBusReceiver`` we use (lets unit tests pass a thin fake)."""

    async def receive_messages(
        self, max_message_count: int | None = ..., max_wait_time: float | None = ...
    ) -> list[Any]: ...
    async def peek_messages(self, max_message_count: int = ..., **kwargs: Any) -> list[Any]: ...
    async def complete_message(self, message: Any) -> None: ...
    async def abandon_message(self, message: Any) -> None: ...
    async def dead_letter_message(
        self, message: Any, reason: str | None = ..., error_description: str | None = ...
    ) -> None: ...
    async def renew_message_lock(self, message: Any, **kwargs: Any) -> datetime: ...
    async def close(self) -> None: ...


@dataclass
class ServiceBusHandle:
    """``ReceivedMessage.raw``: the SDK message and the receiver that holds its lock."""

    message: Any
    receiver: _Receiver


def _text(value: Any) -> Any:
    return (
        value.decode("utf-8", errors="replace") if isinstance(value, bytes | bytearray) else value
    )


def _properties(raw: dict[Any, Any] | None) -> dict[str, Any]:
    """Decode the SDK's bytes keys/values so both adapters return plain ``str``."""
    return {str(_text(k)): _text(v) for k, v in (raw or {}).items()}


_Primitive = int | float | bytes | bool | str | uuid.UUID


def _sdk_properties(props: dict[str, Any]) -> dict[str | bytes, _Primitive]:
    """Application properties as AMQP primitives: ``None`` dropped, anything else ``str``-ed."""
    out: dict[str | bytes, _Primitive] = {}
    for key, value in props.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, _Primitive) else str(value)
    return out


def _body(message: Any) -> bytes:
    body = message.body
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return b"".join(bytes(part) for part in body)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ServiceBusBus(MessageBus):
    """Azure Service Bus adapter (see module docstring).

    Args:
        client: an ``azure.servicebus.aio.ServiceBusClient`` (or a test fake of its two getters).
        use_sessions: subscriptions require sessions; session id = user id.
        prefetch: receiver prefetch count (0 disables; keep it small with long handlers).
        lock_duration_s: the subscriptions' configured lock, only used to estimate expiry
            when the SDK does not report ``locked_until_utc``.
        subscriptions: what ``wdp dlq`` walks by default; the contract's topology.
        credential: closed together with the client when we created it.
    """

    def __init__(
        self,
        client: Any,
        *,
        use_sessions: bool = False,
        prefetch: int = 20,
        lock_duration_s: float = 30.0,
        subscriptions: Iterable[tuple[str, str]] | None = None,
        credential: Any = None,
    ) -> None:
        self.client = client
        self.use_sessions = use_sessions
        self.prefetch = prefetch
        self.lock_duration_s = lock_duration_s
        declared = SUBSCRIPTIONS if subscriptions is None else subscriptions
        self._declared = [(str(t), str(n)) for t, n in declared]
        self._credential = credential
        self._senders: dict[str, Any] = {}
        self._receivers: dict[tuple[str, str], _Receiver] = {}
        self._renewer: Any = None
        self._renewing: set[int] = set()  # id() of session receivers registered for renewal
        self._lock = asyncio.Lock()
        # The SDK's async receivers are not coroutine-safe, and a consumer with concurrency > 1
        # settles one batch while receiving the next: every call on one subscription's
        # receiver goes through that subscription's lock.
        self._receiver_locks: dict[tuple[str, str], asyncio.Lock] = {}

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> ServiceBusBus:
        """Connection string (emulator, SAS) or namespace + ``DefaultAzureCredential``.

        Nothing connects here; the SDK opens links on first use.

        Raises:
            ConfigurationError: neither a connection string nor a namespace is set.
        """
        from azure.servicebus.aio import ServiceBusClient

        credential = None
        if settings.servicebus_connection_string is not None:
            client = ServiceBusClient.from_connection_string(
                settings.servicebus_connection_string.get_secret_value()
            )
        elif settings.servicebus_fully_qualified_namespace:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential()
            client = ServiceBusClient(settings.servicebus_fully_qualified_namespace, credential)
        else:
            raise ConfigurationError(
                "ServiceBusBus needs WDP_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE or "
                "WDP_SERVICEBUS_CONNECTION_STRING"
            )
        return cls(
            client,
            use_sessions=settings.servicebus_use_sessions,
            prefetch=settings.servicebus_prefetch,
            lock_duration_s=settings.bus_lock_duration_s,
            credential=credential,
        )

    async def subscriptions(self) -> list[tuple[str, str]]:
        """The declared ``(topic, subscription)`` pairs (for ``wdp dlq``)."""
        return sorted(self._declared)

    # ------------------------------------------------------------------ publish
    def _to_sdk(self, message: OutgoingMessage) -> ServiceBusMessage:
        props = dict(message.application_properties)
        session_id = message.session_id
        if self.use_sessions and session_id is None:
            user = props.get("user_id")
            session_id = str(user) if user is not None else DEFAULT_SESSION_ID
        return ServiceBusMessage(
            body=bytes(message.body),
            application_properties=_sdk_properties(props),
            message_id=message.message_id or uuid.uuid4().hex,
            subject=message.subject,
            content_type=message.content_type,
            correlation_id=message.correlation_id,
            session_id=session_id,
            scheduled_enqueue_time_utc=message.scheduled_enqueue_time,
        )

    def _sender(self, topic: str) -> Any:
        sender = self._senders.get(topic)
        if sender is None:
            sender = self._senders[topic] = self.client.get_topic_sender(topic_name=topic)
        return sender

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        """Send all messages as one batch (all or none).

        Raises:
            ServiceBusUnavailable: transient trouble; the caller retries.
            ServiceBusEntityNotFound: the topic does not exist.
            PublishTooLarge: the messages do not fit in one batch.
        """
        if not messages:
            return
        batch = [self._to_sdk(m) for m in messages]
        try:
            await self._sender(topic).send_messages(batch)
        except MessagingEntityNotFoundError as exc:
            raise ServiceBusEntityNotFound(f"topic {topic!r} not found: {exc}") from exc
        except MessageSizeExceededError as exc:
            raise PublishTooLarge(
                f"{len(batch)} message(s) to {topic!r} exceed one batch: {exc}"
            ) from exc
        except _TRANSIENT as exc:
            raise ServiceBusUnavailable(f"publish to {topic!r} failed: {exc}") from exc

    # ------------------------------------------------------------------ receive
    def _receiver(self, topic: str, subscription: str, *, sub_queue: Any = None) -> _Receiver:
        kwargs: dict[str, Any] = {
            "topic_name": topic,
            "subscription_name": subscription,
            "receive_mode": ServiceBusReceiveMode.PEEK_LOCK,
            "prefetch_count": self.prefetch if sub_queue is None else 0,
        }
        if sub_queue is not None:
            kwargs["sub_queue"] = sub_queue
        elif self.use_sessions:
            kwargs["session_id"] = NEXT_AVAILABLE_SESSION
        return cast(_Receiver, self.client.get_subscription_receiver(**kwargs))

    def _to_received(
        self, topic: str, subscription: str, msg: Any, receiver: _Receiver
    ) -> ReceivedMessage:
        locked_until = _utc(getattr(msg, "locked_until_utc", None))
        if locked_until is None:
            locked_until = datetime.now(UTC) + timedelta(seconds=self.lock_duration_s)
        return ReceivedMessage(
            topic=topic,
            subscription=subscription,
            message_id=str(msg.message_id),
            body=_body(msg),
            application_properties=_properties(msg.application_properties),
            delivery_count=int(msg.delivery_count or 0) + SDK_DELIVERY_COUNT_OFFSET,
            enqueued_time=_utc(msg.enqueued_time_utc) or datetime.now(UTC),
            locked_until=locked_until,
            subject=msg.subject,
            correlation_id=msg.correlation_id,
            session_id=msg.session_id,
            content_type=msg.content_type,
            dead_letter_reason=getattr(msg, "dead_letter_reason", None),
            dead_letter_description=getattr(msg, "dead_letter_error_description", None),
            raw=ServiceBusHandle(msg, receiver),
        )

    async def receive(
        self,
        topic: str,
        subscription: str,
        *,
        max_messages: int = 1,
        max_wait_s: float = 5.0,
    ) -> list[ReceivedMessage]:
        """Peek-lock up to ``max_messages``; the SDK returns as soon as one arrives.

        Raises:
            ServiceBusUnavailable: transient trouble (the consumer loop backs off).
            ServiceBusEntityNotFound: the subscription does not exist.
        """
        key = (topic, subscription)
        async with self._lock:
            receiver = self._receivers.get(key)
            if receiver is None:
                receiver = self._receivers[key] = self._receiver(topic, subscription)
        try:
            async with self._receiver_lock(key):
                got = await receiver.receive_messages(
                    max_message_count=max_messages, max_wait_time=max(max_wait_s, 0.1)
                )
        except MessagingEntityNotFoundError as exc:
            raise ServiceBusEntityNotFound(f"{topic}/{subscription} not found: {exc}") from exc
        except OperationTimeoutError as exc:
            await self._drop_receiver(key)
            if self.use_sessions:
                # No session became available within max_wait: an idle subscription, not a fault.
                return []
            raise ServiceBusUnavailable(f"receive from {topic}/{subscription}: {exc}") from exc
        except (*_TRANSIENT, SessionLockLostError) as exc:
            await self._drop_receiver(key)
            raise ServiceBusUnavailable(f"receive from {topic}/{subscription}: {exc}") from exc
        if self.use_sessions:
            await self._track_session(key, receiver, got)
        return [self._to_received(topic, subscription, m, receiver) for m in got]

    async def _track_session(self, key: tuple[str, str], receiver: Any, got: list[Any]) -> None:
        """Keep a held session alive while it has work; release it when it runs dry."""
        if got:
            if self._renewer is None:
                from azure.servicebus.aio import AutoLockRenewer

                self._renewer = AutoLockRenewer()
            session = getattr(receiver, "session", None)
            if session is not None and id(receiver) not in self._renewing:
                self._renewer.register(
                    receiver, session, max_lock_renewal_duration=SESSION_LOCK_RENEWAL_S
                )
                self._renewing.add(id(receiver))
            return
        # An empty session: let the next receive pick the next available session.
        await self._drop_receiver(key)

    async def _drop_receiver(self, key: tuple[str, str]) -> None:
        receiver = self._receivers.pop(key, None)
        if receiver is not None:
            self._renewing.discard(id(receiver))
            try:
                await receiver.close()
            except Exception as exc:  # closing a broken link must not mask the real error
                log.debug("closing receiver failed", extra={"error": str(exc)})

    # ------------------------------------------------------------------ settlement
    @staticmethod
    def _handle(message: ReceivedMessage) -> ServiceBusHandle:
        if not isinstance(message.raw, ServiceBusHandle):
            raise TypeError("message was not received from a ServiceBusBus")
        return message.raw

    def _receiver_lock(self, key: tuple[str, str]) -> asyncio.Lock:
        lock = self._receiver_locks.get(key)
        if lock is None:
            lock = self._receiver_locks[key] = asyncio.Lock()
        return lock

    async def _settle(self, message: ReceivedMessage, action: str, **kwargs: Any) -> Any:
        handle = self._handle(message)
        try:
            async with self._receiver_lock((message.topic, message.subscription)):
                return await getattr(handle.receiver, action)(handle.message, **kwargs)
        except _LOCK_LOST as exc:
            raise LockLost(
                f"lock on message {message.message_id!r} ({message.topic}/"
                f"{message.subscription}) was lost: {exc}"
            ) from exc
        except _TRANSIENT as exc:
            raise ServiceBusUnavailable(f"{action} failed: {exc}") from exc

    async def complete(self, message: ReceivedMessage) -> None:
        """Remove the message. Raises :class:`LockLost` if the lock expired."""
        await self._settle(message, "complete_message")

    async def abandon(self, message: ReceivedMessage) -> None:
        """Release the lock now; Service Bus dead-letters after max deliveries."""
        await self._settle(message, "abandon_message")

    async def dead_letter(
        self, message: ReceivedMessage, *, reason: str, description: str = ""
    ) -> None:
        """Move to the DLQ with ``reason`` / ``error_description``."""
        await self._settle(
            message, "dead_letter_message", reason=reason, error_description=description
        )
        message.dead_letter_reason = reason
        message.dead_letter_description = description

    async def renew_lock(self, message: ReceivedMessage) -> datetime:
        """Renew one message lock; returns the new expiry."""
        until = await self._settle(message, "renew_message_lock")
        message.locked_until = _utc(until) or datetime.now(UTC) + timedelta(
            seconds=self.lock_duration_s
        )
        return message.locked_until

    # ------------------------------------------------------------------ dead letters
    async def list_dead_letters(
        self, topic: str, subscription: str, *, max_messages: int = 100
    ) -> list[DeadLetter]:
        """Peek the DLQ sub-queue (nothing is locked or removed)."""
        receiver = self._receiver(topic, subscription, sub_queue=ServiceBusSubQueue.DEAD_LETTER)
        try:
            peeked = await receiver.peek_messages(max_message_count=max_messages)
        except MessagingEntityNotFoundError as exc:
            raise ServiceBusEntityNotFound(f"{topic}/{subscription} not found: {exc}") from exc
        except _TRANSIENT as exc:
            raise ServiceBusUnavailable(f"peek of {topic}/{subscription} DLQ: {exc}") from exc
        finally:
            await receiver.close()
        return [
            DeadLetter(
                topic=topic,
                subscription=subscription,
                message_id=str(m.message_id),
                reason=m.dead_letter_reason,
                description=m.dead_letter_error_description,
                delivery_count=int(m.delivery_count or 0) + SDK_DELIVERY_COUNT_OFFSET,
                enqueued_time=_utc(m.enqueued_time_utc) or datetime.now(UTC),
                application_properties=_properties(m.application_properties),
                body=_body(m),
                sequence_number=m.sequence_number,
            )
            for m in peeked
        ]

    async def replay_dead_letters(
        self, topic: str, subscription: str, *, message_ids: Sequence[str] | None = None
    ) -> int:
        """Re-send DLQ messages to the topic with their id, body and properties, then complete.

        Messages that are not selected are held until the end and then abandoned, so one run
        sees each DLQ message once. Re-send happens before complete: a crash in between
        replays twice, which idempotent consumers (and duplicate detection) absorb.
        """
        wanted = None if message_ids is None else set(message_ids)
        receiver = self._receiver(topic, subscription, sub_queue=ServiceBusSubQueue.DEAD_LETTER)
        skipped: list[Any] = []
        replayed = 0
        try:
            while True:
                batch = await receiver.receive_messages(max_message_count=50, max_wait_time=1.0)
                if not batch:
                    break
                for msg in batch:
                    if wanted is not None and str(msg.message_id) not in wanted:
                        skipped.append(msg)
                        continue
                    await self._sender(topic).send_messages([self._copy_of(msg)])
                    await receiver.complete_message(msg)
                    replayed += 1
                if wanted is not None and replayed >= len(wanted):
                    break
            for msg in skipped:
                await receiver.abandon_message(msg)
        except _TRANSIENT as exc:
            raise ServiceBusUnavailable(f"replay of {topic}/{subscription} DLQ: {exc}") from exc
        finally:
            await receiver.close()
        log.info(
            "replayed dead letters",
            extra={"topic": topic, "subscription": subscription, "count": replayed},
        )
        return replayed

    def _copy_of(self, msg: Any) -> ServiceBusMessage:
        """A fresh message equal to a received one (same id, body, properties, trace)."""
        return ServiceBusMessage(
            body=_body(msg),
            application_properties=_sdk_properties(_properties(msg.application_properties)),
            message_id=str(msg.message_id),
            subject=msg.subject,
            content_type=msg.content_type,
            correlation_id=msg.correlation_id,
            session_id=msg.session_id,
        )

    async def close(self) -> None:
        """Close renewer, receivers, senders, client and credential."""
        if self._renewer is not None:
            await self._renewer.close()
        for key in list(self._receivers):
            await self._drop_receiver(key)
        for sender in self._senders.values():
            await sender.close()
        self._senders.clear()
        await self.client.close()
        if self._credential is not None:
            await self._credential.close()
