"""Frozen pydantic payloads for every topic, plus encode/decode with schema-version checks.

A message travels as UTF-8 JSON of the payload; its application properties carry
``message_type``, ``schema_version``, ``user_id`` (where there is one) and the W3C
``traceparent``. ``storage.blob-events`` is the exception: its body is an Event Grid event
(Event Grid or CloudEvents 1.0 schema) exactly as Azure delivers it; :class:`BlobCreated` is
our parsed view of it, built by ``shared.adapters.blob.events``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.contracts.topics import Topic
from shared.errors import ContractError

SCHEMA_VERSION = 1


class Resource(StrEnum):
    """WHOOP resources the platform extracts; values are also bronze folder and raw table stems."""

    CYCLE = "cycle"
    SLEEP = "sleep"
    RECOVERY = "recovery"
    WORKOUT = "workout"
    PROFILE = "profile"
    BODY_MEASUREMENT = "body_measurement"


COLLECTION_RESOURCES: tuple[Resource, ...] = (
    Resource.CYCLE,
    Resource.SLEEP,
    Resource.RECOVERY,
    Resource.WORKOUT,
)


class WebhookEventType(StrEnum):
    """The six WHOOP v2 webhook event types; anything else is acknowledged and ignored."""

    WORKOUT_UPDATED = "workout.updated"
    WORKOUT_DELETED = "workout.deleted"
    SLEEP_UPDATED = "sleep.updated"
    SLEEP_DELETED = "sleep.deleted"
    RECOVERY_UPDATED = "recovery.updated"
    RECOVERY_DELETED = "recovery.deleted"


class SyncReason(StrEnum):
    """Why a sync was asked for; drives priority and watermark handling in the extractor."""

    INITIAL_BACKFILL = "initial_backfill"
    BACKFILL = "backfill"
    ON_DEMAND = "on_demand"
    SCHEDULE = "schedule"
    RECONCILE = "reconcile"


class Message(BaseModel):
    """Base of every payload: frozen, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    topic: ClassVar[Topic]
    schema_version: int = SCHEMA_VERSION

    def partition_key(self) -> str | None:
        """Key for per-user ordering (Service Bus session id); ``None`` when unordered."""
        user_id = getattr(self, "user_id", None)
        return None if user_id is None else str(user_id)


class WebhookReceived(Message):
    """A validly signed WHOOP webhook the receiver accepted; the extractor fetches the record."""

    topic: ClassVar[Topic] = Topic.WEBHOOK_RECEIVED
    user_id: int
    event_type: WebhookEventType
    record_id: str = Field(description="v2 id: workout/sleep UUID; for recovery.* the SLEEP UUID")
    whoop_trace_id: str = Field(description="WHOOP's trace_id, identical on duplicate deliveries")
    received_at: datetime


class SyncRequested(Message):
    """Fetch collections for one user over ``[start, end)``: backfill, on-demand, reconcile."""

    topic: ClassVar[Topic] = Topic.SYNC_REQUESTED
    job_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    user_id: int
    resources: tuple[Resource, ...] = COLLECTION_RESOURCES
    start: datetime | None = None
    end: datetime | None = None
    reason: SyncReason = SyncReason.ON_DEMAND
    requested_at: datetime


class UserConnected(Message):
    """A user completed the OAuth flow; the extractor fetches profile and starts the backfill."""

    topic: ClassVar[Topic] = Topic.USER_CONNECTED
    user_id: int
    backfill_days: int = Field(default=90, ge=0)
    connected_at: datetime


class UserDisconnected(Message):
    """A user disconnected; with ``purge`` every layer deletes the user's data."""

    topic: ClassVar[Topic] = Topic.USER_DISCONNECTED
    user_id: int
    purge: bool = False
    disconnected_at: datetime


class BlobCreated(Message):
    """Parsed ``Microsoft.Storage.BlobCreated`` event (not sent as-is; see module docstring)."""

    topic: ClassVar[Topic] = Topic.BLOB_EVENTS
    event_id: str
    container: str
    path: str = Field(description="blob path inside the container, e.g. bronze/whoop/sleep/...")
    url: str
    etag: str | None = None
    content_length: int | None = None
    content_type: str | None = None
    event_time: datetime


class BronzeLoaded(Message):
    """The loader committed one micro-batch of bronze files into raw tables."""

    topic: ClassVar[Topic] = Topic.BRONZE_LOADED
    batch_id: str
    files: tuple[str, ...]
    rows_by_resource: dict[str, int]
    user_ids: tuple[int, ...]
    quarantined_files: tuple[str, ...] = ()
    purged_user_ids: tuple[int, ...] = Field(
        default=(),
        description="members whose bronze rows were deleted (disconnect with purge); the "
        "transformer deletes their silver and gold rows next",
    )
    loaded_at: datetime

    def partition_key(self) -> str | None:
        return None


class GoldUpdated(Message):
    """dbt rebuilt silver and gold; lists the users and local days whose gold rows changed."""

    topic: ClassVar[Topic] = Topic.GOLD_UPDATED
    run_id: str
    user_ids: tuple[int, ...]
    dates: tuple[date, ...] = ()
    batch_ids: tuple[str, ...] = ()
    purged_user_ids: tuple[int, ...] = Field(
        default=(),
        description="members whose silver and gold rows were deleted; the scorer deletes "
        "their predictions next",
    )
    finished_at: datetime

    def partition_key(self) -> str | None:
        return None


class PredictionsWritten(Message):
    """The scorer wrote rows into ``fact_predictions`` for one user."""

    topic: ClassVar[Topic] = Topic.PREDICTIONS_WRITTEN
    user_id: int
    model_name: str
    model_version: str
    dates: tuple[date, ...]
    rows: int
    run_id: str
    finished_at: datetime


_BY_TOPIC: dict[Topic, type[Message]] = {
    cls.topic: cls
    for cls in (
        WebhookReceived,
        SyncRequested,
        UserConnected,
        UserDisconnected,
        BlobCreated,
        BronzeLoaded,
        GoldUpdated,
        PredictionsWritten,
    )
}


def message_type_for_topic(topic: Topic) -> type[Message]:
    """The one payload type a topic carries."""
    return _BY_TOPIC[topic]


def encode(message: Message) -> tuple[bytes, dict[str, Any]]:
    """Serialise a payload and the application properties that travel beside it.

    Returns:
        ``(body, properties)``; the bus adapter adds ``traceparent`` when it sends.
    """
    props: dict[str, Any] = {
        "message_type": type(message).__name__,
        "schema_version": message.schema_version,
    }
    key = message.partition_key()
    if key is not None:
        props["user_id"] = key
    return message.model_dump_json().encode(), props


def decode(topic: Topic, body: bytes, properties: dict[str, Any] | None = None) -> Message:
    """Parse a body received on ``topic`` into its payload type.

    Raises:
        ContractError: wrong message type, newer schema version, or invalid payload. Terminal:
            the consumer dead-letters the message with this reason.
    """
    cls = _BY_TOPIC.get(topic)
    if cls is None:
        raise ContractError(str(topic), "no payload type is declared for this topic")
    props = properties or {}
    declared = props.get("message_type")
    if declared is not None and declared != cls.__name__:
        raise ContractError(str(topic), f"message_type {declared!r} is not {cls.__name__!r}")
    version = props.get("schema_version")
    if version is not None and int(version) > SCHEMA_VERSION:
        raise ContractError(
            str(topic), f"schema_version {version} is newer than supported {SCHEMA_VERSION}"
        )
    try:
        return cls.model_validate_json(body)
    except ValidationError as exc:
        raise ContractError(str(topic), exc.errors(include_url=False).__repr__()) from exc


__all__ = [
    "COLLECTION_RESOURCES",
    "SCHEMA_VERSION",
    "BlobCreated",
    "BronzeLoaded",
    "GoldUpdated",
    "Message",
    "PredictionsWritten",
    "Resource",
    "SyncReason",
    "SyncRequested",
    "UserConnected",
    "UserDisconnected",
    "WebhookEventType",
    "WebhookReceived",
    "decode",
    "encode",
    "message_type_for_topic",
]
