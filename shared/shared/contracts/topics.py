"""Topic and subscription names: the only place they are spelt out.

The Service Bus emulator config (``deploy/servicebus-emulator/config.json``) and the Terraform
topic list are generated from / checked against this module by tests.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Topic(StrEnum):
    """Service Bus topics (Azure) / LocalBus topics (laptop)."""

    WEBHOOK_RECEIVED = "whoop.webhook-received"
    SYNC_REQUESTED = "whoop.sync-requested"
    USER_CONNECTED = "whoop.user-connected"
    USER_DISCONNECTED = "whoop.user-disconnected"
    BLOB_EVENTS = "storage.blob-events"
    BRONZE_LOADED = "warehouse.bronze-loaded"
    GOLD_UPDATED = "warehouse.gold-updated"
    PREDICTIONS_WRITTEN = "ml.predictions-written"


class Subscription(NamedTuple):
    """One consumer's subscription on one topic."""

    topic: Topic
    name: str


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(Topic.WEBHOOK_RECEIVED, "extractor"),
    Subscription(Topic.SYNC_REQUESTED, "extractor"),
    Subscription(Topic.USER_CONNECTED, "extractor"),
    Subscription(Topic.USER_DISCONNECTED, "extractor"),
    Subscription(Topic.USER_DISCONNECTED, "loader"),
    Subscription(Topic.BLOB_EVENTS, "loader"),
    Subscription(Topic.BRONZE_LOADED, "transformer"),
    Subscription(Topic.GOLD_UPDATED, "scorer"),
    Subscription(Topic.PREDICTIONS_WRITTEN, "observer"),
)


def subscription(topic: Topic, consumer: str) -> Subscription:
    """Return the declared subscription, refusing undeclared ones so typos fail loudly."""
    for sub in SUBSCRIPTIONS:
        if sub.topic == topic and sub.name == consumer:
            return sub
    raise KeyError(f"no subscription {consumer!r} declared on topic {topic.value!r}")
