"""The ``MessageBus`` port: Azure Service Bus semantics (topics, subscriptions, peek-lock).

Semantics every adapter must honour (the shared contract suite in
``tests/integration/bus/test_bus_contract.py`` checks them):

* ``publish`` to a topic fans out one copy to every subscription of that topic.
* ``receive`` peek-locks up to ``max_messages`` for ``lock_duration``; an unsettled message
  becomes visible again when the lock expires, with ``delivery_count`` + 1.
* ``complete`` removes it; ``abandon`` releases the lock now (delivery count already counted);
  ``dead_letter`` moves it to the subscription's dead-letter queue with reason and description.
* A message received more than ``max_delivery_count`` times is dead-lettered with reason
  ``MaxDeliveryCountExceeded``.
* ``scheduled_enqueue_time`` delays visibility; ``message_id`` is preserved end to end;
  application properties (``traceparent``, ``schema_version``, ``user_id``...) round-trip.
* Settling a message whose lock has expired raises :class:`LockLost`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.errors import TransientError


class LockLost(TransientError):
    """The peek-lock expired (or was taken by another receiver) before settlement."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to publish; ``body`` is opaque bytes (JSON for our contracts)."""

    body: bytes
    application_properties: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    subject: str | None = None
    content_type: str = "application/json"
    correlation_id: str | None = None
    session_id: str | None = None
    scheduled_enqueue_time: datetime | None = None


@dataclass
class ReceivedMessage:
    """A peek-locked message. ``raw`` holds the adapter's native handle for settlement."""

    topic: str
    subscription: str
    message_id: str
    body: bytes
    application_properties: dict[str, Any]
    delivery_count: int
    enqueued_time: datetime
    locked_until: datetime | None
    subject: str | None = None
    correlation_id: str | None = None
    session_id: str | None = None
    content_type: str | None = None
    dead_letter_reason: str | None = None
    dead_letter_description: str | None = None
    raw: Any = None


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message as listed by ``wdp dlq list``."""

    topic: str
    subscription: str
    message_id: str
    reason: str | None
    description: str | None
    delivery_count: int
    enqueued_time: datetime
    application_properties: dict[str, Any]
    body: bytes
    sequence_number: int | None = None


class MessageBus(abc.ABC):
    """Topics with subscriptions and peek-lock settlement, à la Azure Service Bus."""

    @abc.abstractmethod
    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        """Send messages to a topic atomically (all or none, in order)."""

    @abc.abstractmethod
    async def receive(
        self,
        topic: str,
        subscription: str,
        *,
        max_messages: int = 1,
        max_wait_s: float = 5.0,
    ) -> list[ReceivedMessage]:
        """Peek-lock up to ``max_messages``; wait at most ``max_wait_s`` for the first one."""

    @abc.abstractmethod
    async def complete(self, message: ReceivedMessage) -> None:
        """Settle successfully: the message is gone from the subscription."""

    @abc.abstractmethod
    async def abandon(self, message: ReceivedMessage) -> None:
        """Release the lock now so the message is redelivered (delivery count was counted)."""

    @abc.abstractmethod
    async def dead_letter(
        self, message: ReceivedMessage, *, reason: str, description: str = ""
    ) -> None:
        """Move the message to the subscription's dead-letter queue with a reason."""

    @abc.abstractmethod
    async def renew_lock(self, message: ReceivedMessage) -> datetime:
        """Extend the peek-lock of a long-running handler; returns the new expiry."""

    @abc.abstractmethod
    async def list_dead_letters(
        self, topic: str, subscription: str, *, max_messages: int = 100
    ) -> list[DeadLetter]:
        """Browse the dead-letter queue without removing anything."""

    @abc.abstractmethod
    async def replay_dead_letters(
        self, topic: str, subscription: str, *, message_ids: Sequence[str] | None = None
    ) -> int:
        """Re-send dead letters to their topic (same body, properties and trace); returns count.

        Replayed copies go to the topic, so every subscription sees them again; consumers are
        idempotent, so that is safe.
        """

    async def ensure_topology(self) -> None:  # noqa: B027 - optional hook, default no-op
        """Create topics/subscriptions where the backend allows it (local); Azure uses IaC."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
