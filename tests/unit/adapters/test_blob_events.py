"""BlobCreated events: what we build matches Azure Storage's shape, and the loader's parser
accepts both delivery schemas (Event Grid, CloudEvents 1.0) and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.adapters.blob.events import (
    IgnoredBlobEvent,
    build_blob_created_event,
    decode_blob_event,
    parse_blob_event,
)
from shared.contracts import Topic
from shared.errors import ContractError
from shared.ports.blob import BlobInfo

# Samples as documented for Azure Blob Storage events (Event Grid and CloudEvents schema).
AZURE_EVENTGRID_SAMPLE = {
    "topic": "/subscriptions/sub-id/resourceGroups/Storage/providers/Microsoft.Storage/"
    "storageAccounts/my-storage-account",
    "subject": "/blobServices/default/containers/lake/blobs/bronze/whoop/cycle/user_id=1/"
    "dt=2025-01-01/a.ndjson.gz",
    "eventType": "Microsoft.Storage.BlobCreated",
    "eventTime": "2017-06-26T18:41:00.9584103Z",
    "id": "831e1650-001e-001b-66ab-eeb76e069631",
    "data": {
        "api": "PutBlockList",
        "clientRequestId": "6d79dbfb-0e37-4fc4-981f-442c9ca65760",
        "requestId": "831e1650-001e-001b-66ab-eeb76e000000",
        "eTag": "0x8D4BCC2E4835CD0",
        "contentType": "application/x-ndjson",
        "contentLength": 524288,
        "blobType": "BlockBlob",
        "url": "https://my-storage-account.blob.core.windows.net/lake/bronze/whoop/cycle/"
        "user_id%3D1/dt%3D2025-01-01/a.ndjson.gz",
        "sequencer": "00000000000004420000000000028963",
        "storageDiagnostics": {"batchId": "b68529f3-68cd-4744-baa4-3c0498ec19f0"},
    },
    "dataVersion": "",
    "metadataVersion": "1",
}
AZURE_CLOUDEVENT_SAMPLE = {
    "source": AZURE_EVENTGRID_SAMPLE["topic"],
    "subject": AZURE_EVENTGRID_SAMPLE["subject"],
    "type": "Microsoft.Storage.BlobCreated",
    "time": "2017-06-26T18:41:00.9584103Z",
    "id": "831e1650-001e-001b-66ab-eeb76e069631",
    "data": AZURE_EVENTGRID_SAMPLE["data"],
    "specversion": "1.0",
}
PATH = "bronze/whoop/cycle/user_id=1/dt=2025-01-01/a.ndjson.gz"


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(AZURE_EVENTGRID_SAMPLE),
        json.dumps([AZURE_EVENTGRID_SAMPLE]),  # Event Grid → Service Bus may wrap in an array
        json.dumps(AZURE_CLOUDEVENT_SAMPLE),
        json.dumps([AZURE_CLOUDEVENT_SAMPLE]),
    ],
    ids=["eventgrid", "eventgrid-array", "cloudevents", "cloudevents-array"],
)
def test_parse_accepts_both_azure_schemas(body: str) -> None:
    event = parse_blob_event(body.encode(), {})
    assert event.event_id == "831e1650-001e-001b-66ab-eeb76e069631"
    assert event.container == "lake"
    assert event.path == PATH
    assert event.etag == "0x8D4BCC2E4835CD0"
    assert event.content_length == 524288
    assert event.content_type == "application/x-ndjson"
    assert event.event_time.replace(microsecond=0) == datetime(2017, 6, 26, 18, 41, 0, tzinfo=UTC)


def test_parse_falls_back_to_url_when_subject_is_odd() -> None:
    odd = {**AZURE_EVENTGRID_SAMPLE, "subject": "something-else"}
    event = parse_blob_event(json.dumps(odd).encode())
    assert (event.container, event.path) == ("lake", PATH)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"not json", "not JSON"),
        (b"42", "not a JSON object"),
        (json.dumps([AZURE_EVENTGRID_SAMPLE] * 2).encode(), "one event per message"),
        (b'{"hello": "world"}', "neither"),
        (
            json.dumps({**AZURE_EVENTGRID_SAMPLE, "data": {"api": "PutBlob"}}).encode(),
            "data.url",
        ),
        (json.dumps({**AZURE_CLOUDEVENT_SAMPLE, "specversion": "0.3"}).encode(), "specversion"),
        (json.dumps({"specversion": "1.0", "type": "x"}).encode(), "invalid CloudEvent"),
        (
            json.dumps({k: v for k, v in AZURE_EVENTGRID_SAMPLE.items() if k != "id"}).encode(),
            "no id",
        ),
    ],
)
def test_parse_refuses_anything_else_with_contract_error(body: bytes, fragment: str) -> None:
    with pytest.raises(ContractError) as info:
        parse_blob_event(body, {})
    assert fragment in str(info.value)
    assert info.value.topic == Topic.BLOB_EVENTS.value


def test_other_storage_events_are_flagged_and_decoded_to_none() -> None:
    deleted = {**AZURE_EVENTGRID_SAMPLE, "eventType": "Microsoft.Storage.BlobDeleted"}
    with pytest.raises(IgnoredBlobEvent) as info:
        parse_blob_event(json.dumps(deleted).encode())
    assert info.value.event_type == "Microsoft.Storage.BlobDeleted"
    assert decode_blob_event(Topic.BLOB_EVENTS, json.dumps(deleted).encode(), {}) is None
    cloud_deleted = {**AZURE_CLOUDEVENT_SAMPLE, "type": "Microsoft.Storage.BlobDeleted"}
    assert decode_blob_event(Topic.BLOB_EVENTS, json.dumps(cloud_deleted).encode(), {}) is None


def test_decoder_parses_and_checks_topic() -> None:
    body = json.dumps(AZURE_EVENTGRID_SAMPLE).encode()
    event = decode_blob_event(Topic.BLOB_EVENTS, body, {"traceparent": "x"})
    assert event is not None and event.path == PATH
    with pytest.raises(ContractError):
        decode_blob_event(Topic.BRONZE_LOADED, body, {})


INFO = BlobInfo(
    path="bronze/whoop/sleep/u/x.ndjson.gz",
    size=12,
    etag="0x1A2B",
    content_sha256="ab",
    last_modified=datetime(2026, 1, 1, tzinfo=UTC),
    content_type="application/x-ndjson",
    url="https://acct.blob.core.windows.net/lake/bronze/whoop/sleep/u/x.ndjson.gz",
)


def test_built_eventgrid_event_has_azure_storage_shape() -> None:
    event_id, body = build_blob_created_event(account="acct", container="lake", info=INFO)
    raw = json.loads(body)
    assert set(raw) == set(AZURE_EVENTGRID_SAMPLE)
    assert set(raw["data"]) == set(AZURE_EVENTGRID_SAMPLE["data"])  # type: ignore[arg-type]
    assert raw["id"] == event_id
    assert raw["eventType"] == "Microsoft.Storage.BlobCreated"
    assert raw["subject"] == "/blobServices/default/containers/lake/blobs/" + INFO.path
    assert raw["topic"].endswith("/providers/Microsoft.Storage/storageAccounts/acct")
    assert raw["topic"].startswith("/subscriptions/")
    assert raw["data"]["eTag"] == "0x1A2B" and raw["data"]["contentLength"] == 12
    assert len(raw["data"]["sequencer"]) == 32
    assert raw["eventTime"].endswith("Z")
    parsed = parse_blob_event(body)
    assert (parsed.event_id, parsed.path, parsed.url) == (event_id, INFO.path, INFO.url)


def test_built_cloudevent_has_cloudevents_shape() -> None:
    event_id, body = build_blob_created_event(
        account="acct", container="lake", info=INFO, schema="cloudevents"
    )
    raw = json.loads(body)
    assert raw["specversion"] == "1.0"
    assert raw["id"] == event_id
    assert raw["type"] == "Microsoft.Storage.BlobCreated"
    assert raw["source"].endswith("/storageAccounts/acct")
    assert set(raw["data"]) == set(AZURE_CLOUDEVENT_SAMPLE["data"])  # type: ignore[arg-type]
    assert parse_blob_event(body).path == INFO.path


def test_sequencer_is_lexically_ordered() -> None:
    bodies = [build_blob_created_event(account="a", container="c", info=INFO)[1] for _ in range(5)]
    seqs = [json.loads(b)["data"]["sequencer"] for b in bodies]
    assert seqs == sorted(seqs)
