"""``Microsoft.Storage.BlobCreated`` events: built like Azure Storage, parsed in both schemas.

In Azure, Event Grid publishes BlobCreated to a Service Bus topic; locally (and on Azurite,
which has no Event Grid) the blob adapter publishes the same event itself through
:class:`BlobEventPublisher`. Both paths therefore put identical bytes on
``Topic.BLOB_EVENTS``, and the loader has one parser, :func:`parse_blob_event`, for the two
delivery schemas Event Grid offers: the Event Grid schema (one event, or a one-element array)
and CloudEvents 1.0. Both are built and parsed with azure-eventgrid / azure-core models so the
field names are the SDK's, not our guess.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent

from shared.contracts import BlobCreated, Topic
from shared.errors import ContractError, PlatformError
from shared.ports.blob import BlobInfo
from shared.ports.bus import MessageBus, OutgoingMessage
from shared.telemetry import current_trace_id, inject_trace

log = logging.getLogger(__name__)

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
EventSchema = Literal["eventgrid", "cloudevents"]
_SUBJECT_PREFIX = "/blobServices/default/containers/"


class IgnoredBlobEvent(PlatformError):
    """A well-formed storage event that is not BlobCreated (BlobDeleted, ...).

    Neither transient nor terminal on purpose: it is expected traffic (an Event Grid
    subscription may forward every storage event type), so the right settlement is "complete
    and skip", not a retry or a dead letter. :func:`decode_blob_event` turns it into ``None``.
    """

    def __init__(self, event_type: str, subject: str | None) -> None:
        self.event_type = event_type
        self.subject = subject
        super().__init__(f"ignoring storage event {event_type!r} for {subject!r}")


def storage_account_resource_id(account: str) -> str:
    """The ``topic``/``source`` Event Grid stamps on storage events (an ARM resource id).

    Locally there is no subscription or resource group, so fixed, obviously local ones stand in.
    """
    return (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/wdp-local/"
        f"providers/Microsoft.Storage/storageAccounts/{account}"
    )


def blob_subject(container: str, path: str) -> str:
    """``/blobServices/default/containers/<c>/blobs/<path>`` as Azure Storage writes it."""
    return f"{_SUBJECT_PREFIX}{container}/blobs/{path}"


def _sequencer() -> str:
    # Azure's sequencer is an opaque, lexically ordered 32-hex string per blob; time in
    # nanoseconds gives the same ordering property for one writer.
    return f"{time.time_ns():032d}"


def blob_created_data(
    *,
    info: BlobInfo,
    api: str,
    blob_type: str = "BlockBlob",
    client_request_id: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The ``data`` object of a BlobCreated event (Azure Storage's field names and order)."""
    return {
        "api": api,
        "clientRequestId": client_request_id or str(uuid.uuid4()),
        "requestId": request_id or str(uuid.uuid4()),
        "eTag": info.etag,
        "contentType": info.content_type or "application/octet-stream",
        "contentLength": info.size,
        "blobType": blob_type,
        "url": info.url,
        "sequencer": _sequencer(),
        "storageDiagnostics": {"batchId": str(uuid.uuid4())},
    }


def build_blob_created_event(
    *,
    account: str,
    container: str,
    info: BlobInfo,
    schema: EventSchema = "eventgrid",
    api: str = "PutBlob",
    event_time: datetime | None = None,
) -> tuple[str, bytes]:
    """Serialise one BlobCreated event in the requested delivery schema.

    Returns:
        ``(event_id, body)``: the id doubles as the bus ``message_id`` (duplicate detection).
    """
    event_id = str(uuid.uuid4())
    when = event_time or datetime.now(UTC)
    data = blob_created_data(info=info, api=api)
    source = storage_account_resource_id(account)
    subject = blob_subject(container, info.path)
    if schema == "cloudevents":
        cloud = CloudEvent(
            source=source,
            type=BLOB_CREATED,
            subject=subject,
            id=event_id,
            time=when,
            data=data,
            datacontenttype="application/json",
        )
        body: dict[str, Any] = {
            "specversion": cloud.specversion,
            "type": cloud.type,
            "source": cloud.source,
            "id": cloud.id,
            "time": _iso(cloud.time or when),
            "subject": cloud.subject,
            "datacontenttype": cloud.datacontenttype,
            "data": cloud.data,
        }
    else:
        event = EventGridEvent(
            subject=subject,
            event_type=BLOB_CREATED,
            data=data,
            data_version="",
            topic=source,
            id=event_id,
            event_time=when,
        )
        body = dict(event.serialize())
        body["dataVersion"] = ""  # Storage sends an empty dataVersion; keep it explicit
        body["metadataVersion"] = "1"
    return event_id, json.dumps(body, separators=(",", ":")).encode()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class BlobEventPublisher:
    """Publishes BlobCreated to ``Topic.BLOB_EVENTS`` where Event Grid cannot (local, Azurite).

    Args:
        bus: where events go.
        account: storage account name stamped into ``topic``/``source``.
        container: the container every event refers to.
        schema: Event Grid schema (default) or CloudEvents 1.0, as configured in Azure.
    """

    def __init__(
        self, bus: MessageBus, *, account: str, container: str, schema: EventSchema = "eventgrid"
    ) -> None:
        self.bus = bus
        self.account = account
        self.container = container
        self.schema: EventSchema = schema

    async def blob_created(self, info: BlobInfo, *, api: str = "PutBlob") -> str:
        """Publish one event for a finished write; returns the event id."""
        event_id, body = build_blob_created_event(
            account=self.account,
            container=self.container,
            info=info,
            schema=self.schema,
            api=api,
        )
        properties: dict[str, Any] = {"event_type": BLOB_CREATED, "event_schema": self.schema}
        trace_id = current_trace_id()
        if trace_id is not None:
            properties["trace_id"] = trace_id
        inject_trace(properties)
        content_type = (
            "application/cloudevents+json" if self.schema == "cloudevents" else "application/json"
        )
        await self.bus.publish(
            Topic.BLOB_EVENTS.value,
            [
                OutgoingMessage(
                    body=body,
                    application_properties=properties,
                    message_id=event_id,
                    subject=blob_subject(self.container, info.path),
                    content_type=content_type,
                )
            ],
        )
        log.debug(
            "published BlobCreated",
            extra={"event_id": event_id, "blob_path": info.path, "schema": self.schema},
        )
        return event_id


def _contract_error(reason: str) -> ContractError:
    return ContractError(Topic.BLOB_EVENTS.value, reason)


def _split_subject(subject: str | None, url: str | None) -> tuple[str, str]:
    """``(container, path)`` from the subject, falling back to the blob URL."""
    if subject and subject.startswith(_SUBJECT_PREFIX) and "/blobs/" in subject:
        container, _, path = subject[len(_SUBJECT_PREFIX) :].partition("/blobs/")
        if container and path:
            return container, path
    if url:
        parts = [p for p in urlsplit(url).path.split("/") if p]
        # Azurite URLs carry the account as the first segment (127.0.0.1:port/account/c/p).
        if len(parts) >= 3 and parts[0].startswith("devstoreaccount"):
            parts = parts[1:]
        if len(parts) >= 2:
            return parts[0], unquote("/".join(parts[1:]))
    raise _contract_error(f"cannot tell container and blob path from subject {subject!r}")


def parse_blob_event(body: bytes, properties: dict[str, Any] | None = None) -> BlobCreated:
    """Parse a BlobCreated event in the Event Grid schema or CloudEvents 1.0.

    Args:
        body: the Service Bus message body (one event, or a one-element JSON array).
        properties: application properties (unused for parsing; kept for the decoder shape).

    Raises:
        IgnoredBlobEvent: a valid storage event of another type (complete and skip it).
        ContractError: anything that is not a storage event in either schema.
    """
    del properties  # the event is self-describing; properties only carry the trace
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _contract_error(f"body is not JSON: {exc}") from exc
    if isinstance(raw, list):
        if len(raw) != 1:
            raise _contract_error(f"expected one event per message, got {len(raw)}")
        raw = raw[0]
    if not isinstance(raw, dict):
        raise _contract_error("event is not a JSON object")
    if "specversion" in raw:
        return _from_cloud_event(raw)
    if "eventType" in raw:
        return _from_event_grid(raw)
    raise _contract_error("neither an Event Grid event nor a CloudEvent")


def _from_event_grid(raw: dict[str, Any]) -> BlobCreated:
    try:
        event = EventGridEvent.from_dict(raw)
    except Exception as exc:  # the SDK raises assorted errors for malformed input
        raise _contract_error(f"invalid Event Grid event: {exc}") from exc
    if event.event_type != BLOB_CREATED:
        raise IgnoredBlobEvent(str(event.event_type), event.subject)
    if not event.id:
        raise _contract_error("Event Grid event has no id")
    return _blob_created(str(event.id), event.subject, event.data, event.event_time)


def _from_cloud_event(raw: dict[str, Any]) -> BlobCreated:
    try:
        event: CloudEvent[Any] = CloudEvent.from_dict(raw)
    except Exception as exc:  # ValueError/KeyError/TypeError depending on what is missing
        raise _contract_error(f"invalid CloudEvent: {exc}") from exc
    if event.specversion != "1.0":
        raise _contract_error(f"unsupported CloudEvents specversion {event.specversion!r}")
    if event.type != BLOB_CREATED:
        raise IgnoredBlobEvent(event.type, event.subject)
    return _blob_created(event.id, event.subject, event.data, event.time)


def _blob_created(event_id: str, subject: str | None, data: Any, when: Any) -> BlobCreated:
    if not isinstance(data, dict):
        raise _contract_error("BlobCreated event has no data object")
    url = data.get("url")
    if not isinstance(url, str) or not url:
        raise _contract_error("BlobCreated event has no data.url")
    container, path = _split_subject(subject, url)
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if not isinstance(when, datetime):
        when = datetime.now(UTC)
    length = data.get("contentLength")
    return BlobCreated(
        event_id=event_id,
        container=container,
        path=path,
        url=url,
        etag=data.get("eTag"),
        content_length=int(length) if length is not None else None,
        content_type=data.get("contentType"),
        event_time=when if when.tzinfo else when.replace(tzinfo=UTC),
    )


def decode_blob_event(topic: Topic, body: bytes, properties: dict[str, Any]) -> BlobCreated | None:
    """``Consumer(..., decoder=decode_blob_event)`` for ``Topic.BLOB_EVENTS``.

    Returns:
        The parsed event, or ``None`` for another storage event type (BlobDeleted...): the
        handler skips ``None`` payloads and the consumer completes the message as usual.

    Raises:
        ContractError: wrong topic or not a storage event (the consumer dead-letters it).
    """
    if topic != Topic.BLOB_EVENTS:
        raise ContractError(str(topic), "decode_blob_event only decodes storage.blob-events")
    try:
        return parse_blob_event(body, properties)
    except IgnoredBlobEvent as exc:
        log.info(
            "skipping non-BlobCreated storage event",
            extra={"event_type": exc.event_type, "subject": exc.subject},
        )
        return None


__all__ = [
    "BLOB_CREATED",
    "BlobEventPublisher",
    "EventSchema",
    "IgnoredBlobEvent",
    "blob_subject",
    "build_blob_created_event",
    "decode_blob_event",
    "parse_blob_event",
    "storage_account_resource_id",
]
