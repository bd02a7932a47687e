"""The one consumer loop every bus-driven service uses (entrypoints stay thin).

Settlement rules (the same on LocalBus and Service Bus):

* handler returns → ``complete``
* :class:`~shared.errors.TerminalError` (incl. ``ContractError``) → ``dead_letter`` with the
  exception class as reason and its message as description; replay with ``wdp dlq replay``.
* :class:`~shared.errors.TransientError` or any unexpected exception → ``abandon``; the bus
  redelivers and dead-letters after ``max_delivery_count`` (reason ``MaxDeliveryCountExceeded``).

A lock-renewal task keeps peek-locks alive while a long handler (a dbt build) runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared.contracts import Message, Topic, decode
from shared.errors import TerminalError, TransientError
from shared.ports.bus import LockLost, MessageBus, ReceivedMessage
from shared.telemetry import extract_trace

log = logging.getLogger(__name__)

Decoder = Callable[[Topic, bytes, dict[str, Any]], Any]


@dataclass
class Delivery:
    """A decoded payload with the received message it came from."""

    payload: Any
    message: ReceivedMessage

    @property
    def delivery_count(self) -> int:
        """How many times the bus has handed this message out (1 on first delivery)."""
        return int(self.message.delivery_count)


MessageHandler = Callable[[Any, ReceivedMessage], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]


def _default_decoder(topic: Topic, body: bytes, props: dict[str, Any]) -> Message:
    return decode(topic, body, props)


class Consumer:
    """Receive → decode → handle → settle, for one subscription.

    Args:
        handler: called once per message (``handle(payload, message)``), or
        batch_handler: called with every message received in one poll (micro-batching);
            all messages of a batch settle together.
        decoder: body → payload; defaults to the contract decoder for the topic.
        concurrency: batches handled at once. Receives stay sequential (one receiver per
            subscription); with more than one, the next batch is received and handled while
            earlier ones are still running, e.g. the loader prepares one micro-batch while
            the warehouse commits the previous one. Each batch still settles on its own.
    """

    def __init__(
        self,
        bus: MessageBus,
        topic: Topic,
        subscription: str,
        *,
        handler: MessageHandler | None = None,
        batch_handler: BatchHandler | None = None,
        decoder: Decoder = _default_decoder,
        max_messages: int = 1,
        max_wait_s: float = 1.0,
        lock_renew_interval_s: float | None = None,
        span_name: str | None = None,
        concurrency: int = 1,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler or batch_handler")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.bus = bus
        self.topic = topic
        self.subscription = subscription
        self.handler = handler
        self.batch_handler = batch_handler
        self.decoder = decoder
        self.max_messages = max_messages
        self.max_wait_s = max_wait_s
        self.lock_renew_interval_s = lock_renew_interval_s
        self.span_name = span_name or f"consume {topic.value}"
        self.processed = 0
        self.dead_lettered = 0
        self.abandoned = 0
        self._tracer = trace.get_tracer(__name__)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; in-flight batches always finish and settle."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                if len(in_flight) >= self.concurrency:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                try:
                    messages = await self.bus.receive(
                        self.topic.value,
                        self.subscription,
                        max_messages=self.max_messages,
                        max_wait_s=self.max_wait_s,
                    )
                except TransientError as exc:
                    log.warning("receive failed, retrying", extra={"error": str(exc)})
                    await asyncio.sleep(1.0)
                    continue
                if not messages:
                    await asyncio.sleep(0)  # never starve in-flight batches on an idle bus
                    continue
                if self.concurrency == 1:
                    await self.process(messages)
                    continue
                task = asyncio.create_task(self.process(messages))
                in_flight.add(task)
                task.add_done_callback(lambda t: self._finished(in_flight, t))
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)

    def _finished(self, in_flight: set[asyncio.Task[None]], task: asyncio.Task[None]) -> None:
        """Forget a concurrent batch; ``process`` settles its own failures, so an exception
        here escaped settlement (e.g. the bus failed while abandoning) and is logged."""
        in_flight.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error(
                "batch processing failed outside settlement",
                exc_info=exc,
                extra={"topic": self.topic.value, "subscription": self.subscription},
            )

    async def process(self, messages: Sequence[ReceivedMessage]) -> None:
        """Decode, handle and settle one received batch (public for tests and replays)."""
        deliveries: list[Delivery] = []
        for msg in messages:
            try:
                payload = self.decoder(self.topic, msg.body, msg.application_properties)
            except TerminalError as exc:
                await self._dead_letter(msg, exc)
                continue
            deliveries.append(Delivery(payload, msg))
        if not deliveries:
            return
        renewer = asyncio.create_task(self._renew_locks([d.message for d in deliveries]))
        try:
            if self.batch_handler is not None:
                await self._run_batch(deliveries)
            else:
                for delivery in deliveries:
                    await self._run_one(delivery)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _run_one(self, delivery: Delivery) -> None:
        assert self.handler is not None
        parent = extract_trace(delivery.message.application_properties)
        token = otel_context.attach(parent)
        try:
            with self._tracer.start_as_current_span(
                self.span_name, kind=SpanKind.CONSUMER, attributes=self._attrs(delivery.message)
            ) as span:
                try:
                    await self.handler(delivery.payload, delivery.message)
                except BaseException as exc:
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    await self._settle_failure(delivery.message, exc)
                    if not isinstance(exc, Exception):
                        raise
                    return
            await self._complete(delivery.message)
        finally:
            otel_context.detach(token)

    async def _run_batch(self, deliveries: Sequence[Delivery]) -> None:
        assert self.batch_handler is not None
        # The batch span is a child of the first message's trace and links to the others.
        parent = extract_trace(deliveries[0].message.application_properties)
        links = [
            trace.Link(
                trace.get_current_span(
                    extract_trace(d.message.application_properties)
                ).get_span_context()
            )
            for d in deliveries[1:]
        ]
        token = otel_context.attach(parent)
        try:
            with self._tracer.start_as_current_span(
                self.span_name,
                kind=SpanKind.CONSUMER,
                links=[link for link in links if link.context.is_valid],
                attributes={"messaging.batch.message_count": len(deliveries)},
            ) as span:
                try:
                    await self.batch_handler(deliveries)
                except BaseException as exc:
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    for d in deliveries:
                        await self._settle_failure(d.message, exc)
                    if not isinstance(exc, Exception):
                        raise
                    return
            for d in deliveries:
                await self._complete(d.message)
        finally:
            otel_context.detach(token)

    def _attrs(self, msg: ReceivedMessage) -> dict[str, Any]:
        return {
            "messaging.system": "servicebus",
            "messaging.destination.name": self.topic.value,
            "messaging.message.id": msg.message_id,
            "messaging.servicebus.message.delivery_count": msg.delivery_count,
        }

    async def _complete(self, msg: ReceivedMessage) -> None:
        try:
            await self.bus.complete(msg)
            self.processed += 1
        except LockLost:
            log.warning(
                "lock lost before completion; message will be redelivered (handlers are "
                "idempotent)",
                extra={"message_id": msg.message_id, "topic": self.topic.value},
            )

    async def _settle_failure(self, msg: ReceivedMessage, exc: BaseException) -> None:
        if isinstance(exc, TerminalError):
            await self._dead_letter(msg, exc)
            return
        self.abandoned += 1
        log.warning(
            "handler failed; abandoning for redelivery",
            exc_info=not isinstance(exc, TransientError),
            extra={
                "message_id": msg.message_id,
                "topic": self.topic.value,
                "delivery_count": msg.delivery_count,
                "error": f"{type(exc).__name__}: {exc}",
            },
        )
        with contextlib.suppress(LockLost):
            await self.bus.abandon(msg)

    async def _dead_letter(self, msg: ReceivedMessage, exc: BaseException) -> None:
        self.dead_lettered += 1
        log.error(
            "dead-lettering message",
            extra={
                "message_id": msg.message_id,
                "topic": self.topic.value,
                "reason": type(exc).__name__,
                "error": str(exc),
            },
        )
        with contextlib.suppress(LockLost):
            await self.bus.dead_letter(msg, reason=type(exc).__name__, description=str(exc)[:4000])

    async def _renew_locks(self, messages: Sequence[ReceivedMessage]) -> None:
        interval = self.lock_renew_interval_s
        if interval is None:
            return
        while True:
            await asyncio.sleep(interval)
            for msg in messages:
                with contextlib.suppress(LockLost, TransientError):
                    await self.bus.renew_lock(msg)
