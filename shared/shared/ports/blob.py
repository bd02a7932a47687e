"""The ``BlobStore`` port: hierarchical object storage (ADLS Gen2 / local filesystem).

Writes are atomic (a reader never sees half a blob) and report an etag and a content hash.
After a successful write the adapter's event emitter publishes a
``Microsoft.Storage.BlobCreated`` event (Event Grid does that in Azure; locally the adapter does).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from shared.errors import TerminalError


class BlobNotFound(TerminalError):
    """No blob at that path."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no blob at {path!r}")


class BlobAlreadyExists(TerminalError):
    """``put(..., overwrite=False)`` found a blob at that path already."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"a blob already exists at {path!r}")


class InvalidBlobPath(TerminalError):
    """The path is empty, absolute, or escapes the container (``..``)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"invalid blob path {path!r}: {reason}")


@dataclass(frozen=True)
class BlobInfo:
    """What a write returns and a listing shows."""

    path: str
    size: int
    etag: str
    content_sha256: str | None
    last_modified: datetime
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    url: str = ""


class BlobStore(abc.ABC):
    """Object storage with atomic puts and streaming reads."""

    container: str

    @abc.abstractmethod
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
        """Write a blob atomically and (if configured) emit BlobCreated."""

    @abc.abstractmethod
    async def get(self, path: str) -> bytes:
        """Read a whole (small) blob. Raises BlobNotFound."""

    @abc.abstractmethod
    def stream(self, path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """Read a blob in chunks, for constant memory in file size."""

    @abc.abstractmethod
    async def download_to(self, path: str, destination: Path) -> BlobInfo:
        """Stream a blob into a local file (the loader hands local files to the warehouse)."""

    @abc.abstractmethod
    async def info(self, path: str) -> BlobInfo:
        """Properties and metadata of one blob. Raises BlobNotFound."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        """Every blob under ``prefix`` (recursive)."""

    @abc.abstractmethod
    async def delete(self, path: str) -> bool:
        """Delete; returns whether something was deleted (idempotent)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
