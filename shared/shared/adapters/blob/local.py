"""``LocalBlobStore``: the BlobStore port on the local filesystem, with Event Grid's events.

Layout: ``<blob_root>/<container>/<path>`` holds the bytes, and
``<blob_root>/.meta/<container>/<path>.json`` holds the properties Azure would keep beside a
blob (etag, sha256, content type/encoding, user metadata). Keeping sidecars in a separate
tree means a listing of the container never has to filter them out and a blob may be called
anything, even ``x.json``.

Writes are atomic: bytes go to a temp file in the destination folder, are fsynced, then
``os.replace``-d (or hard-linked for ``overwrite=False``, which refuses an existing target
atomically). After a write, when a bus is wired and ``blob_emit_events`` is on, a
``Microsoft.Storage.BlobCreated`` event goes to ``Topic.BLOB_EVENTS`` exactly as Event Grid
would deliver it in Azure.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from shared.adapters.blob.events import BlobEventPublisher, EventSchema
from shared.ports.blob import BlobAlreadyExists, BlobInfo, BlobNotFound, BlobStore, InvalidBlobPath
from shared.ports.bus import MessageBus
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

LOCAL_ACCOUNT = "wdplocal"
_META_DIR = ".meta"


def validate_blob_path(path: str) -> str:
    """Normalise a blob path and refuse ones that could escape the container.

    Raises:
        InvalidBlobPath: empty, absolute, backslashes, ``.``/``..`` segments, trailing slash.
    """
    if not path or path.startswith("/") or path.endswith("/"):
        raise InvalidBlobPath(path, "must be a non-empty relative path without a trailing '/'")
    if "\\" in path or "\x00" in path:
        raise InvalidBlobPath(path, "backslashes and NUL are not allowed")
    parts = PurePosixPath(path).parts
    if any(p in (".", "..") for p in parts) or "//" in path:
        raise InvalidBlobPath(path, "'.', '..' and empty segments are not allowed")
    return path


def _etag() -> str:
    # Azure etags look like 0x8DC3F5B2A1E4C7F; a nanosecond clock gives a fresh one per write.
    return f"0x{time.time_ns():X}"


class LocalBlobStore(BlobStore):
    """Filesystem blob container (see module docstring).

    Args:
        root: folder holding every container (``settings.blob_root``).
        container: this store's container (a sub-folder of ``root``).
        events: publisher for BlobCreated after writes; ``None`` disables events.
    """

    def __init__(
        self, root: Path, container: str, *, events: BlobEventPublisher | None = None
    ) -> None:
        self.root = Path(root)
        self.container = container
        self.events = events
        self._dir = self.root / container
        self._meta = self.root / _META_DIR / container

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, bus: MessageBus | None = None
    ) -> LocalBlobStore:
        """Store under ``<data_dir>/lake/<blob_container>``; emits events when a bus is given."""
        events = None
        if settings.blob_emit_events and bus is not None:
            schema: EventSchema = settings.blob_event_schema
            events = BlobEventPublisher(
                bus, account=LOCAL_ACCOUNT, container=settings.blob_container, schema=schema
            )
        return cls(settings.blob_root, settings.blob_container, events=events)

    # ------------------------------------------------------------------ paths
    def _file(self, path: str) -> Path:
        return self._dir / validate_blob_path(path)

    def _sidecar(self, path: str) -> Path:
        return self._meta / f"{validate_blob_path(path)}.json"

    # ------------------------------------------------------------------ writes
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
        """Write atomically, then publish BlobCreated if configured.

        Raises:
            BlobAlreadyExists: ``overwrite=False`` and the path is taken.
            InvalidBlobPath: the path could escape the container.
        """
        target = self._file(path)
        info = await asyncio.to_thread(
            self._write,
            path,
            target,
            bytes(data),
            content_type,
            content_encoding,
            dict(metadata or {}),
            overwrite,
        )
        if self.events is not None:
            await self.events.blob_created(info)
        return info

    def _write(
        self,
        path: str,
        target: Path,
        data: bytes,
        content_type: str,
        content_encoding: str | None,
        metadata: dict[str, str],
        overwrite: bool,
    ) -> BlobInfo:
        sha = hashlib.sha256(data).hexdigest()
        etag = _etag()
        for attempt in range(3):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
                break
            except FileNotFoundError:  # a delete pruned the empty folder in between
                if attempt == 2:
                    raise
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if overwrite:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)  # fails atomically if the target exists
                except FileExistsError as exc:
                    raise BlobAlreadyExists(path) from exc
                tmp.unlink()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        modified = datetime.fromtimestamp(target.stat().st_mtime, UTC)
        sidecar = {
            "etag": etag,
            "content_sha256": sha,
            "content_type": content_type,
            "content_encoding": content_encoding,
            "metadata": metadata,
            "size": len(data),
            "last_modified": modified.isoformat(),
        }
        self._write_sidecar(path, sidecar)
        return self._info(path, sidecar, target)

    def _write_sidecar(self, path: str, sidecar: dict[str, Any]) -> None:
        meta = self._sidecar(path)
        meta.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=meta.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump(sidecar, fh)
        os.replace(tmp_name, meta)

    # ------------------------------------------------------------------ reads
    def _read_sidecar(self, path: str) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self._sidecar(path).read_text())
            return loaded
        except FileNotFoundError:
            return {}

    def _info(self, path: str, sidecar: dict[str, Any], file: Path) -> BlobInfo:
        try:
            stat = file.stat()
        except FileNotFoundError as exc:
            raise BlobNotFound(path) from exc
        etag = sidecar.get("etag") or f"0x{stat.st_mtime_ns:X}"
        return BlobInfo(
            path=path,
            size=stat.st_size,
            etag=str(etag),
            content_sha256=sidecar.get("content_sha256"),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            content_type=sidecar.get("content_type"),
            metadata=dict(sidecar.get("metadata") or {}),
            url=file.resolve().as_uri(),
        )

    async def info(self, path: str) -> BlobInfo:
        """Properties and metadata. Raises :class:`BlobNotFound`."""
        file = self._file(path)
        return await asyncio.to_thread(lambda: self._info(path, self._read_sidecar(path), file))

    async def get(self, path: str) -> bytes:
        """The whole blob. Raises :class:`BlobNotFound`."""
        file = self._file(path)
        try:
            return await asyncio.to_thread(file.read_bytes)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise BlobNotFound(path) from exc

    async def stream(self, path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """Chunks of at most ``chunk_size`` bytes; memory stays constant in blob size."""
        file = self._file(path)
        try:
            fh = await asyncio.to_thread(file.open, "rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise BlobNotFound(path) from exc
        try:
            while chunk := await asyncio.to_thread(fh.read, chunk_size):
                yield chunk
        finally:
            fh.close()

    async def download_to(self, path: str, destination: Path) -> BlobInfo:
        """Copy into ``destination`` atomically (temp file + replace)."""
        info = await self.info(path)
        file = self._file(path)

        def copy() -> None:
            destination.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".dl-", dir=destination.parent)
            try:
                with os.fdopen(fd, "wb") as out, file.open("rb") as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                os.replace(tmp_name, destination)
            except FileNotFoundError as exc:
                Path(tmp_name).unlink(missing_ok=True)
                raise BlobNotFound(path) from exc
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise

        await asyncio.to_thread(copy)
        return info

    async def list(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        """Every blob whose path starts with ``prefix`` (a string prefix, as in Azure), sorted."""
        paths = await asyncio.to_thread(lambda: sorted(self._walk(prefix)))
        for path in paths:
            with contextlib.suppress(BlobNotFound):  # deleted while listing
                yield await self.info(path)

    def _walk(self, prefix: str) -> Iterator[str]:
        # Start at the deepest folder the prefix pins down instead of the container root.
        folder = prefix.rpartition("/")[0]
        start = self._dir / folder if folder else self._dir
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            for name in filenames:
                if name.startswith(".tmp-"):
                    continue
                rel = (Path(dirpath) / name).relative_to(self._dir).as_posix()
                if rel.startswith(prefix):
                    yield rel

    async def delete(self, path: str) -> bool:
        """Remove the blob and its sidecar; ``False`` when nothing was there."""
        file = self._file(path)
        sidecar = self._sidecar(path)

        def remove() -> bool:
            try:
                file.unlink()
            except FileNotFoundError:
                return False
            sidecar.unlink(missing_ok=True)
            # Hierarchical-namespace semantics: folders left empty go with their last blob,
            # so a purged member's `user_id=<id>/` folders do not outlive their data.
            for leaf, top in ((file, self._dir), (sidecar, self._meta)):
                parent = leaf.parent
                while parent != top and top in parent.parents:
                    try:
                        parent.rmdir()
                    except OSError:  # not empty (or already gone): stop climbing
                        break
                    parent = parent.parent
            return True

        return await asyncio.to_thread(remove)
