"""One contract suite for every ``BlobStore`` adapter: LocalBlobStore and AzureBlobStore on Azurite.

Both adapters also publish BlobCreated (Event Grid's job in Azure) to a real LocalBus here,
and the event must parse with the loader's parser, ``parse_blob_event``.
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from shared.adapters.blob.events import parse_blob_event
from shared.adapters.bus.local import LocalBus
from shared.contracts import Topic
from shared.ports.blob import BlobAlreadyExists, BlobNotFound, BlobStore, InvalidBlobPath
from shared.settings import PlatformSettings

BRONZE = "bronze/whoop/sleep/user_id=10129/dt=2025-03-12/20250312T040551Z_job1_0001.ndjson.gz"


@dataclass
class BlobHarness:
    kind: str
    store: BlobStore
    bus: LocalBus
    container: str


async def _build(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, **kw: Any
) -> BlobHarness:
    container = f"c{uuid.uuid4().hex[:12]}"
    bus = LocalBus(tmp_path / "bus.sqlite3", lock_duration_s=5, poll_interval_s=0.02)
    store: BlobStore
    if kind == "local":
        from shared.adapters.blob.local import LocalBlobStore

        settings = PlatformSettings(data_dir=tmp_path, blob_container=container, **kw)
        store = LocalBlobStore.from_settings(settings, bus=bus)
    else:
        from shared.adapters.blob.azure import AzureBlobStore

        azurite = request.getfixturevalue("azurite")
        settings = PlatformSettings(
            data_dir=tmp_path,
            blob_container=container,
            blob_connection_string=azurite.connection_string,
            **kw,
        )
        store = AzureBlobStore.from_settings(settings, bus=bus)
    return BlobHarness(kind, store, bus, container)


@pytest.fixture(params=["local", "azurite"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobHarness]:
    h = await _build(request.param, tmp_path, request)
    try:
        yield h
    finally:
        await h.store.close()
        await h.bus.close()


async def _drain_events(h: BlobHarness) -> list[Any]:
    got = await h.bus.receive(Topic.BLOB_EVENTS.value, "loader", max_messages=50, max_wait_s=0.5)
    for m in got:
        await h.bus.complete(m)
    return got


async def test_put_then_get_info_round_trip(blobs: BlobHarness) -> None:
    data = gzip.compress(b'{"id": 1}\n{"id": 2}\n')
    info = await blobs.store.put(
        BRONZE,
        data,
        content_type="application/x-ndjson",
        content_encoding="gzip",
        metadata={"user_id": "10129", "resource": "sleep", "trace_id": "ab" * 16},
    )
    assert info.path == BRONZE
    assert info.size == len(data)
    assert info.etag and not info.etag.startswith('"')
    assert info.content_sha256 == hashlib.sha256(data).hexdigest()
    assert await blobs.store.get(BRONZE) == data
    again = await blobs.store.info(BRONZE)
    assert again.etag == info.etag
    assert again.size == len(data)
    assert again.content_sha256 == info.content_sha256
    assert again.content_type == "application/x-ndjson"
    assert dict(again.metadata) == {"user_id": "10129", "resource": "sleep", "trace_id": "ab" * 16}
    assert unquote(again.url).endswith(BRONZE)


async def test_overwrite_changes_etag_and_no_overwrite_refuses(blobs: BlobHarness) -> None:
    first = await blobs.store.put("a/b.txt", b"one")
    second = await blobs.store.put("a/b.txt", b"two")
    assert second.etag != first.etag
    assert await blobs.store.get("a/b.txt") == b"two"
    with pytest.raises(BlobAlreadyExists):
        await blobs.store.put("a/b.txt", b"three", overwrite=False)
    assert await blobs.store.get("a/b.txt") == b"two"
    created = await blobs.store.put("a/new.txt", b"fresh", overwrite=False)
    assert created.size == 5


async def test_missing_blob_raises_not_found_and_delete_is_idempotent(blobs: BlobHarness) -> None:
    with pytest.raises(BlobNotFound):
        await blobs.store.get("nope/x.bin")
    with pytest.raises(BlobNotFound):
        await blobs.store.info("nope/x.bin")
    with pytest.raises(BlobNotFound):
        async for _ in blobs.store.stream("nope/x.bin"):
            pass
    await blobs.store.put("del/me.bin", b"x")
    assert await blobs.store.delete("del/me.bin") is True
    assert await blobs.store.delete("del/me.bin") is False
    with pytest.raises(BlobNotFound):
        await blobs.store.get("del/me.bin")


async def test_stream_yields_bounded_chunks(blobs: BlobHarness) -> None:
    data = bytes(range(256)) * 40  # 10 240 bytes
    await blobs.store.put("big.bin", data)
    chunks = [c async for c in blobs.store.stream("big.bin", chunk_size=4096)]
    assert b"".join(chunks) == data
    assert all(len(c) <= 4096 for c in chunks)
    assert len(chunks) == 3
    await blobs.store.put("empty.bin", b"")
    assert [c async for c in blobs.store.stream("empty.bin")] == []


async def test_download_to_writes_local_file(blobs: BlobHarness, tmp_path: Path) -> None:
    data = b"line\n" * 1000
    put = await blobs.store.put("dl/file.ndjson", data)
    dest = tmp_path / "downloads" / "file.ndjson"
    info = await blobs.store.download_to("dl/file.ndjson", dest)
    assert dest.read_bytes() == data
    assert info.etag == put.etag
    assert info.size == len(data)
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".dl-")]
    with pytest.raises(BlobNotFound):
        await blobs.store.download_to("dl/missing", tmp_path / "downloads" / "m")
    assert not (tmp_path / "downloads" / "m").exists()


async def test_list_is_recursive_sorted_and_prefix_filtered(blobs: BlobHarness) -> None:
    paths = [
        "bronze/whoop/sleep/user_id=1/dt=2025-01-02/b.ndjson",
        "bronze/whoop/sleep/user_id=1/dt=2025-01-01/a.ndjson",
        "bronze/whoop/cycle/user_id=1/dt=2025-01-01/c.ndjson",
        "bronze/whoop/sleepy/x.ndjson",
        "models/recovery/v1.pkl",
    ]
    for p in paths:
        await blobs.store.put(p, p.encode())
    sleep = [i.path async for i in blobs.store.list("bronze/whoop/sleep/")]
    assert sleep == sorted(p for p in paths if p.startswith("bronze/whoop/sleep/"))
    string_prefix = [i.path async for i in blobs.store.list("bronze/whoop/sleep")]
    assert "bronze/whoop/sleepy/x.ndjson" in string_prefix
    everything = [i async for i in blobs.store.list()]
    assert [i.path for i in everything] == sorted(paths)
    assert all(i.size == len(i.path) for i in everything)
    assert [i.path async for i in blobs.store.list("nothing/")] == []


async def test_invalid_paths_are_refused(blobs: BlobHarness) -> None:
    for bad in ("../escape.txt", "/abs.txt", "a/../b.txt", "", "dir/"):
        with pytest.raises(InvalidBlobPath):
            await blobs.store.put(bad, b"x")


async def test_put_emits_blob_created_event_that_the_loader_parses(blobs: BlobHarness) -> None:
    provider = TracerProvider()
    with provider.get_tracer("test").start_as_current_span("extract") as span:
        info = await blobs.store.put(BRONZE, b"{}\n", content_type="application/x-ndjson")
        trace_id = format(span.get_span_context().trace_id, "032x")
    got = await blobs.bus.receive(Topic.BLOB_EVENTS.value, "loader", max_wait_s=2)
    assert len(got) == 1
    message = got[0]
    event = parse_blob_event(message.body, message.application_properties)
    assert message.message_id == event.event_id
    assert event.container == blobs.container
    assert event.path == BRONZE
    assert event.etag == info.etag
    assert event.content_length == 3
    assert event.content_type == "application/x-ndjson"
    assert event.url == info.url
    assert message.application_properties["traceparent"].split("-")[1] == trace_id
    await blobs.bus.complete(message)
    assert trace.get_current_span().get_span_context().is_valid is False


async def test_cloudevents_schema_is_emitted_when_configured(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for kind in ("local", "azurite"):
        h = await _build(kind, tmp_path / kind, request, blob_event_schema="cloudevents")
        try:
            info = await h.store.put("x/y.bin", b"abc")
            got = await _drain_events(h)
            assert len(got) == 1
            assert b'"specversion":"1.0"' in got[0].body
            event = parse_blob_event(got[0].body, got[0].application_properties)
            assert (event.path, event.etag, event.content_length) == ("x/y.bin", info.etag, 3)
        finally:
            await h.store.close()
            await h.bus.close()


async def test_no_event_without_emit_setting(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for kind in ("local", "azurite"):
        h = await _build(kind, tmp_path / kind, request, blob_emit_events=False)
        try:
            await h.store.put("x/y.bin", b"abc")
            assert await _drain_events(h) == []
        finally:
            await h.store.close()
            await h.bus.close()
