"""The single truth for topics, subscriptions and message payloads.

Every message that crosses a service boundary is one of the frozen pydantic models in
:mod:`shared.contracts.messages`; every topic and subscription name lives in
:mod:`shared.contracts.topics`. A topic name appears nowhere else in the code base.
"""

from shared.contracts.messages import (
    SCHEMA_VERSION,
    BlobCreated,
    BronzeLoaded,
    GoldUpdated,
    Message,
    PredictionsWritten,
    Resource,
    SyncReason,
    SyncRequested,
    UserConnected,
    UserDisconnected,
    WebhookEventType,
    WebhookReceived,
    decode,
    encode,
    message_type_for_topic,
)
from shared.contracts.topics import SUBSCRIPTIONS, Subscription, Topic

__all__ = [
    "SCHEMA_VERSION",
    "SUBSCRIPTIONS",
    "BlobCreated",
    "BronzeLoaded",
    "GoldUpdated",
    "Message",
    "PredictionsWritten",
    "Resource",
    "Subscription",
    "SyncReason",
    "SyncRequested",
    "Topic",
    "UserConnected",
    "UserDisconnected",
    "WebhookEventType",
    "WebhookReceived",
    "decode",
    "encode",
    "message_type_for_topic",
]
