"""In-memory fakes of the ports shared by several test areas (no I/O).

They subclass the port ABCs, so a port change breaks them loudly instead of letting them
drift. Import as ``from tests.fakes import ...`` (pytest puts the repository root on the path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from shared.ports import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    DeadLetter,
    MessageBus,
    OutgoingMessage,
    ReceivedMessage,
)


class RecordingBus(MessageBus):
    """Captures publishes; nothing is ever received (consumption is the runtime's job)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, OutgoingMessage]] = []

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        self.published.extend((topic, m) for m in messages)

    async def receive(
        self, topic: str, subscription: str, *, max_messages: int = 1, max_wait_s: float = 5.0
    ) -> list[ReceivedMessage]:
        return []

    async def complete(self, message: ReceivedMessage) -> None:
        return None

    async def abandon(self, message: ReceivedMessage) -> None:
        return None

    async def dead_letter(
        self, message: ReceivedMessage, *, reason: str, description: str = ""
    ) -> None:
        return None

    async def renew_lock(self, message: ReceivedMessage) -> datetime:
        return datetime.now(UTC)

    async def list_dead_letters(
        self, topic: str, subscription: str, *, max_messages: int = 100
    ) -> list[DeadLetter]:
        return []

    async def replay_dead_letters(
        self, topic: str, subscription: str, *, message_ids: Sequence[str] | None = None
    ) -> int:
        return 0


class MemoryBlobStore(BlobStore):
    """Dict-backed BlobStore; tests may read or plant ``blobs[path]`` bytes directly."""

    container = "test"

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.metadata: dict[str, dict[str, str]] = {}

    def _info(self, path: str) -> BlobInfo:
        data = self.blobs[path]
        return BlobInfo(
            path,
            len(data),
            str(hash(data)),
            None,
            datetime.now(UTC),
            metadata=dict(self.metadata.get(path, {})),
        )

    async def put(
        self,
        path: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        content_encoding: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> BlobInfo:
        self.blobs[path] = bytes(data)
        self.metadata[path] = dict(metadata or {})
        return self._info(path)

    async def get(self, path: str) -> bytes:
        if path not in self.blobs:
            raise BlobNotFound(path)
        return self.blobs[path]

    async def stream(self, path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        yield await self.get(path)

    async def download_to(self, path: str, destination: Path) -> BlobInfo:
        destination.write_bytes(await self.get(path))
        return self._info(path)

    async def info(self, path: str) -> BlobInfo:
        if path not in self.blobs:
            raise BlobNotFound(path)
        return self._info(path)

    async def list(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        for path in sorted(self.blobs):
            if path.startswith(prefix):
                yield self._info(path)

    async def delete(self, path: str) -> bool:
        self.metadata.pop(path, None)
        return self.blobs.pop(path, None) is not None
