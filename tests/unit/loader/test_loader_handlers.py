"""Loader handler logic with fakes that subclass the ports (no I/O beyond tmp files)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loader.handlers import Loader, bronze_resource
from loader.settings import LoaderSettings
from shared.adapters.warehouse.bronze import WarehouseLockTimeout
from shared.contracts import BlobCreated, BronzeLoaded, Topic, decode
from shared.ports.blob import BlobInfo, BlobNotFound, BlobStore
from shared.ports.bus import DeadLetter, MessageBus, OutgoingMessage, ReceivedMessage
from shared.ports.warehouse import BronzeFile, InputLimits, LoadResult, Warehouse
from shared.runtime import Consumer, Delivery

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
SLEEP_PATH = "bronze/whoop/sleep/user_id=7/dt=2026-11-27/20261127T020000Z_job_1.ndjson.gz"


class FakeBlobs(BlobStore):
    container = "lake"

    def __init__(self, blobs: dict[str, bytes], metadata: Mapping[str, str] | None = None) -> None:
        self.blobs = blobs
        self.metadata = dict(metadata or {})

    async def put(self, path: str, data: bytes, **_: Any) -> BlobInfo:  # type: ignore[override]
        raise AssertionError("the loader never writes blobs")

    async def get(self, path: str) -> bytes:
        return self.blobs[path]

    async def stream(self, path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        yield self.blobs[path]

    async def download_to(self, path: str, destination: Path) -> BlobInfo:
        if path not in self.blobs:
            raise BlobNotFound(path)
        destination.write_bytes(self.blobs[path])
        return await self.info(path)

    async def info(self, path: str) -> BlobInfo:
        if path not in self.blobs:
            raise BlobNotFound(path)
        return BlobInfo(
            path=path,
            size=len(self.blobs[path]),
            etag="0xDOWNLOADED",
            content_sha256="sha",
            last_modified=NOW,
            metadata=self.metadata,
        )

    async def list(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        for path in sorted(self.blobs):
            if path.startswith(prefix):
                yield await self.info(path)

    async def delete(self, path: str) -> bool:
        return self.blobs.pop(path, None) is not None


class FakeWarehouse(Warehouse):
    def __init__(self, error: Exception | None = None, loaded_before: bool = False) -> None:
        self.batches: list[tuple[str, list[BronzeFile], list[bytes | None]]] = []
        self.error = error
        self.loaded_before = loaded_before

    def ensure_schema(self) -> None:
        pass

    def load_bronze(
        self, batch_id: str, files: Sequence[BronzeFile], *, limits: InputLimits | None = None
    ) -> LoadResult:
        contents = [f.local_path.read_bytes() if f.local_path.exists() else None for f in files]
        self.batches.append((batch_id, list(files), contents))
        if self.error is not None:
            raise self.error
        result = LoadResult(batch_id=batch_id)
        for f, data in zip(files, contents, strict=True):
            if self.loaded_before:
                result.skipped_files.append(f.blob_path)
            elif data is None:
                result.quarantined[f.blob_path] = "missing"
            else:
                result.loaded_files.append(f.blob_path)
                n = data.count(b"\n")
                result.rows_by_resource[f.resource] = result.rows_by_resource.get(f.resource, 0) + n
                result.user_ids.add(7)
        return result

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return []

    def execute(self, sql: str, params: Any = None) -> None:
        pass


class FakeBus(MessageBus):
    def __init__(self) -> None:
        self.published: list[tuple[str, OutgoingMessage]] = []
        self.queue: list[ReceivedMessage] = []
        self.completed: list[str] = []
        self.abandoned: list[str] = []

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        self.published += [(topic, m) for m in messages]

    async def receive(self, topic: str, subscription: str, **_: Any) -> list[ReceivedMessage]:
        taken, self.queue = self.queue, []
        return taken

    async def complete(self, message: ReceivedMessage) -> None:
        self.completed.append(message.message_id)

    async def abandon(self, message: ReceivedMessage) -> None:
        self.abandoned.append(message.message_id)

    async def dead_letter(
        self, message: ReceivedMessage, *, reason: str, description: str = ""
    ) -> None:
        raise AssertionError(f"unexpected dead letter: {reason} {description}")

    async def renew_lock(self, message: ReceivedMessage) -> datetime:
        return NOW

    async def list_dead_letters(self, topic: str, subscription: str, **_: Any) -> list[DeadLetter]:
        return []

    async def replay_dead_letters(self, topic: str, subscription: str, **_: Any) -> int:
        return 0


def event(path: str = SLEEP_PATH, *, container: str = "lake", etag: str = "0xEVENT") -> BlobCreated:
    return BlobCreated(
        event_id=f"ev-{path}",
        container=container,
        path=path,
        url=f"http://127.0.0.1/devstoreaccount1/{container}/{path}",
        etag=etag,
        event_time=NOW,
    )


def delivery(payload: BlobCreated | None, count: int = 1) -> Delivery:
    msg = ReceivedMessage(
        topic=Topic.BLOB_EVENTS.value,
        subscription="loader",
        message_id=f"m-{payload.path if payload else 'none'}",
        body=b"{}",
        application_properties={},
        delivery_count=count,
        enqueued_time=NOW,
        locked_until=NOW + timedelta(seconds=30),
    )
    return Delivery(payload, msg)


def make_loader(blobs: FakeBlobs, warehouse: FakeWarehouse, bus: FakeBus) -> Loader:
    return Loader(bus=bus, blobs=blobs, warehouse=warehouse, settings=LoaderSettings())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SLEEP_PATH, "sleep"),
        ("bronze/whoop/body_measurement/user_id=7/dt=2026-11-27/x.ndjson.gz", "body_measurement"),
        ("bronze/whoop/heart_rate/user_id=7/x.ndjson.gz", None),
        ("bronze/whoop/sleep", None),
        ("bronze/whoop/sleep/", None),
        ("models/recovery/v1.joblib", None),
        ("silver/whoop/sleep/x.ndjson.gz", None),
    ],
)
def test_only_bronze_resource_paths_are_loadable(path: str, expected: str | None) -> None:
    assert bronze_resource(path) == expected


async def test_batch_downloads_loads_once_and_announces() -> None:
    other = SLEEP_PATH.replace("_1.", "_2.")
    blobs = FakeBlobs(
        {SLEEP_PATH: b'{"id": "a"}\n', other: b'{"id": "b"}\n{"id": "c"}\n'},
        metadata={"trace_id": "abc123", "fetched_at": "2026-11-27T02:00:00.000Z"},
    )
    warehouse, bus = FakeWarehouse(), FakeBus()

    await make_loader(blobs, warehouse, bus).handle_batch(
        [delivery(event()), delivery(event(other))]
    )

    ((batch_id, files, contents),) = warehouse.batches
    assert [f.blob_path for f in files] == [SLEEP_PATH, other]
    assert contents == [b'{"id": "a"}\n', b'{"id": "b"}\n{"id": "c"}\n']
    first = files[0]
    assert (first.resource, first.etag, first.content_sha256) == ("sleep", "0xDOWNLOADED", "sha")
    assert first.trace_id == "abc123"
    assert first.fetched_at == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert first.local_path.name.endswith(".ndjson.gz")
    assert not first.local_path.exists(), "temp files are removed after the load"

    ((topic, out),) = bus.published
    assert topic == Topic.BRONZE_LOADED.value
    assert out.message_id == batch_id
    loaded = decode(Topic.BRONZE_LOADED, out.body, dict(out.application_properties))
    assert isinstance(loaded, BronzeLoaded)
    assert loaded.files == (SLEEP_PATH, other)
    assert loaded.rows_by_resource == {"sleep": 3}
    assert loaded.user_ids == (7,)


async def test_blobs_outside_bronze_and_other_containers_are_ignored() -> None:
    blobs = FakeBlobs({"models/m.joblib": b"x", SLEEP_PATH: b"{}\n"})
    warehouse, bus = FakeWarehouse(), FakeBus()

    await make_loader(blobs, warehouse, bus).handle_batch(
        [delivery(event("models/m.joblib")), delivery(event(container="other")), delivery(None)]
    )

    assert warehouse.batches == [] and bus.published == []


async def test_deleted_blob_is_handed_over_as_missing_and_reported() -> None:
    gone = SLEEP_PATH.replace("_1.", "_9.")
    blobs = FakeBlobs({SLEEP_PATH: b"{}\n"})
    warehouse, bus = FakeWarehouse(), FakeBus()

    await make_loader(blobs, warehouse, bus).handle_batch(
        [delivery(event()), delivery(event(gone))]
    )

    ((_, files, contents),) = warehouse.batches
    assert contents[1] is None and files[1].etag == "0xEVENT"
    loaded = decode(Topic.BRONZE_LOADED, bus.published[0][1].body)
    assert isinstance(loaded, BronzeLoaded)
    assert loaded.quarantined_files == (gone,)


async def test_nothing_new_is_not_announced_unless_redelivered() -> None:
    blobs = FakeBlobs({SLEEP_PATH: b"{}\n"})
    bus = FakeBus()
    loader = make_loader(blobs, FakeWarehouse(loaded_before=True), bus)

    await loader.handle_batch([delivery(event(), count=1)])
    assert bus.published == []

    # a redelivery may mean we crashed between commit and publish: announce again
    await loader.handle_batch([delivery(event(), count=2)])
    loaded = decode(Topic.BRONZE_LOADED, bus.published[0][1].body)
    assert isinstance(loaded, BronzeLoaded)
    assert loaded.files == (SLEEP_PATH,) and loaded.rows_by_resource == {}


async def test_lock_timeout_abandons_the_whole_batch_for_redelivery(tmp_path: Path) -> None:
    blobs = FakeBlobs({SLEEP_PATH: b"{}\n"})
    bus = FakeBus()
    warehouse = FakeWarehouse(error=WarehouseLockTimeout(tmp_path / "w.lock", 0.1))
    loader = make_loader(blobs, warehouse, bus)
    consumer = Consumer(
        bus,
        Topic.BLOB_EVENTS,
        "loader",
        batch_handler=loader.handle_batch,
        decoder=lambda _t, body, _p: BlobCreated.model_validate_json(body),
        max_messages=100,
    )
    messages = [delivery(event()).message, delivery(event(SLEEP_PATH + "x")).message]
    messages[0].body = event().model_dump_json().encode()
    messages[1].body = event(SLEEP_PATH.replace("_1.", "_2.")).model_dump_json().encode()

    await consumer.process(messages)

    assert sorted(bus.abandoned) == sorted(m.message_id for m in messages)
    assert bus.completed == [] and bus.published == []


async def test_published_message_carries_trace_context() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    blobs = FakeBlobs({SLEEP_PATH: b"{}\n"})
    bus = FakeBus()
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("consume") as span:
        await make_loader(blobs, FakeWarehouse(), bus).handle_batch([delivery(event())])
        trace_id = format(span.get_span_context().trace_id, "032x")
    props = dict(bus.published[0][1].application_properties)
    assert props["message_type"] == "BronzeLoaded"
    assert trace_id in props["traceparent"]
    assert json.loads(bus.published[0][1].body)["batch_id"]
    del trace
