"""Frozen pydantic payloads for every topic, plus encode/decode with schema-version checks.

A message travels as UTF-8 JSON of the payload; its application properties carry
``message_type``, ``schema_version``, ``user_id`` (where there is one) and the W3C
``traceparent``. ``storage.blob-events`` is the exception: its body is an Event Grid event
(Event Grid or CloudEvents 1.0 schema) exactly as Azure delivers it; :class:`BlobCreated` is
our parsed view of it, built by ``shared.adapters.blob.events``.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.contracts.topics import Topic
from shared.errors import ContractError, TerminalError

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


#: WHOOP's integer ids (users, cycles) are int64; 0 and negatives are never issued.
INT64_MAX = 2**63 - 1

#: A WHOOP user id as every message carries it: a positive int64. Bounded here so that no
#: consumer meets a value its SQLite/DuckDB/Snowflake binding cannot hold (OverflowError).
UserId = Annotated[int, Field(gt=0, le=INT64_MAX)]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_POSITIVE_DECIMAL = re.compile(r"[1-9][0-9]{0,18}")


class InvalidRecordId(TerminalError, ValueError):
    """A record id that cannot be a WHOOP id of its resource (see :func:`record_id_for`).

    Terminal (it stays wrong on every retry) and a ``ValueError`` so pydantic validators turn
    it into a validation error of the message that carries it.
    """


def record_id_for(resource: Resource, value: object) -> str:
    """The id of a ``resource`` record as text, or :class:`InvalidRecordId`.

    WHOOP v2 ids: cycle = positive int64 (sent as a number or a decimal string); sleep and
    workout = UUID in its canonical 8-4-4-4-12 hex form; recovery has no id of its own and is
    addressed by its sleep's UUID (webhooks) or its cycle id (``/v2/cycle/{id}/recovery``),
    so ``Resource.RECOVERY`` here means the sleep UUID a recovery event carries. Ids end up
    in URL paths with the user's bearer token and in bronze keys, so anything else (a signed
    ``../../etc/passwd``) is refused before it is used.

    Raises:
        InvalidRecordId: the value is not a valid id of that resource.
    """
    if resource is Resource.CYCLE:
        if isinstance(value, bool):
            raise InvalidRecordId(f"cycle id must be a positive int64, got {value!r}")
        text = str(value) if isinstance(value, int) else value
        if (
            not isinstance(text, str)
            or not _POSITIVE_DECIMAL.fullmatch(text)
            or int(text) > INT64_MAX
        ):
            raise InvalidRecordId(f"cycle id must be a positive int64, got {_clip(value)}")
        return text
    if resource in (Resource.SLEEP, Resource.WORKOUT, Resource.RECOVERY):
        if not isinstance(value, str) or not _UUID.fullmatch(value):
            raise InvalidRecordId(f"{resource.value} id must be a UUID, got {_clip(value)}")
        return value
    raise InvalidRecordId(f"{resource.value} records are not addressed by id")


def _clip(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class WebhookEventType(StrEnum):
    """The six WHOOP v2 webhook event types; anything else is acknowledged and ignored."""

    WORKOUT_UPDATED = "workout.updated"
    WORKOUT_DELETED = "workout.deleted"
    SLEEP_UPDATED = "sleep.updated"
    SLEEP_DELETED = "sleep.deleted"
    RECOVERY_UPDATED = "recovery.updated"
    RECOVERY_DELETED = "recovery.deleted"

    @property
    def resource(self) -> Resource:
        """The resource the event's ``id`` identifies (recovery events: the SLEEP UUID)."""
        return Resource(self.value.split(".", 1)[0])


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
    user_id: UserId
    event_type: WebhookEventType
    record_id: str = Field(description="v2 id: workout/sleep UUID; for recovery.* the SLEEP UUID")
    whoop_trace_id: str = Field(
        min_length=1,
        max_length=200,
        description="WHOOP's trace_id, identical on duplicate deliveries",
    )
    received_at: datetime

    @model_validator(mode="after")
    def _record_id_matches_event(self) -> WebhookReceived:
        """Every producer and consumer gets the per-resource id check (see record_id_for)."""
        record_id_for(self.event_type.resource, self.record_id)
        return self


class SyncRequested(Message):
    """Fetch collections for one user over ``[start, end)``: backfill, on-demand, reconcile."""

    topic: ClassVar[Topic] = Topic.SYNC_REQUESTED
    job_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    user_id: UserId
    resources: tuple[Resource, ...] = COLLECTION_RESOURCES
    start: datetime | None = None
    end: datetime | None = None
    reason: SyncReason = SyncReason.ON_DEMAND
    requested_at: datetime


class UserConnected(Message):
    """A user completed the OAuth flow; the extractor fetches profile and starts the backfill."""

    topic: ClassVar[Topic] = Topic.USER_CONNECTED
    user_id: UserId
    backfill_days: int = Field(default=90, ge=0)
    connected_at: datetime


class UserDisconnected(Message):
    """A user disconnected; with ``purge`` every layer deletes the user's data."""

    topic: ClassVar[Topic] = Topic.USER_DISCONNECTED
    user_id: UserId
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
    user_id: UserId
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
    "INT64_MAX",
    "GoldUpdated",
    "InvalidRecordId",
    "Message",
    "PredictionsWritten",
    "Resource",
    "SyncReason",
    "SyncRequested",
    "UserConnected",
    "UserDisconnected",
    "UserId",
    "WebhookEventType",
    "WebhookReceived",
    "decode",
    "encode",
    "message_type_for_topic",
    "record_id_for",
]
