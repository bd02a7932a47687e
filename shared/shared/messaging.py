"""Publish one contract message with its properties and the current trace context.

Every publisher goes through :func:`publish_message` so three things are never forgotten: the
contract encoding (``message_type``/``schema_version``/``user_id`` properties), the W3C
``traceparent`` of the current span (one trace across hops), and the session id that keeps a
user's messages ordered on Service Bus.
"""

from __future__ import annotations

from shared.contracts import Message, encode
from shared.ports.bus import MessageBus, OutgoingMessage
from shared.telemetry import inject_trace


def outgoing_message(message: Message, *, message_id: str | None = None) -> OutgoingMessage:
    """Encode ``message`` and add the trace context, without sending it.

    Args:
        message: a contract payload; its class decides the topic.
        message_id: a stable id lets the bus drop duplicates of a retried publish.
    """
    body, properties = encode(message)
    inject_trace(properties)
    return OutgoingMessage(
        body=body,
        application_properties=properties,
        message_id=message_id,
        subject=type(message).__name__,
        session_id=message.partition_key(),
    )


async def publish_message(
    bus: MessageBus, message: Message, *, message_id: str | None = None
) -> None:
    """Send one contract message to its topic (``type(message).topic``)."""
    await bus.publish(message.topic.value, [outgoing_message(message, message_id=message_id)])


__all__ = ["outgoing_message", "publish_message"]
