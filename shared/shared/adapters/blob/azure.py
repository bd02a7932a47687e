"""``AzureBlobStore``: the BlobStore port on Azure Blob Storage / ADLS Gen2 (and Azurite).

The data lake is an ADLS Gen2 account (hierarchical namespace), but the Blob API works on it
unchanged and is what Azurite emulates, so one adapter serves Azure and the tests. Paths are
hierarchical (``bronze/whoop/sleep/user_id=1/dt=.../file.ndjson.gz``); with HNS each ``/``
segment is a real directory.

Etags are returned without the HTTP quotes so they compare equal to the ``eTag`` Event Grid
puts in BlobCreated. The sha256 of the content travels as blob metadata
(``wdp_content_sha256``) because Azure only keeps an MD5; it is hidden from ``metadata``.

Events: in Azure, Event Grid publishes BlobCreated itself (``WDP_BLOB_EMIT_EVENTS=false``).
Azurite has no Event Grid, so with the setting on this adapter publishes the identical event
through :class:`~shared.adapters.blob.events.BlobEventPublisher`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobProperties, ContentSettings
from azure.storage.blob.aio import ContainerClient

from shared.adapters.blob.events import BlobEventPublisher, EventSchema
from shared.adapters.blob.local import validate_blob_path
from shared.errors import ConfigurationError, TransientError
from shared.ports.blob import BlobAlreadyExists, BlobInfo, BlobNotFound, BlobStore
from shared.ports.bus import MessageBus
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

SHA256_METADATA_KEY = "wdp_content_sha256"
# upload_blob sends one Put Blob up to this size, Put Block + Put Block List above it.
_SINGLE_PUT_LIMIT = 64 * 1024 * 1024


class BlobStorageUnavailable(TransientError):
    """Network trouble or a 5xx from storage; the consumer retries the message later."""


def _etag(raw: str | None) -> str:
    return (raw or "").strip('"')


class AzureBlobStore(BlobStore):
    """Async Blob API client bound to one container.

    Args:
        client: a ``ContainerClient`` (connection string, or account URL + credential).
        events: publisher for BlobCreated after writes; ``None`` when Event Grid does it.
        credential: closed together with the client when we created it.
    """

    def __init__(
        self,
        client: ContainerClient,
        *,
        events: BlobEventPublisher | None = None,
        credential: AsyncTokenCredential | None = None,
    ) -> None:
        self.client = client
        self.container = client.container_name
        self.events = events
        self._credential = credential
        self._container_checked = False

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, bus: MessageBus | None = None
    ) -> AzureBlobStore:
        """Connection string (Azurite, keys) or account URL + ``DefaultAzureCredential``.

        Nothing connects here; the first call does.

        Raises:
            ConfigurationError: neither ``WDP_BLOB_CONNECTION_STRING`` nor
                ``WDP_BLOB_ACCOUNT_URL`` is set.
        """
        credential: AsyncTokenCredential | None = None
        if settings.blob_connection_string is not None:
            client = ContainerClient.from_connection_string(
                settings.blob_connection_string.get_secret_value(), settings.blob_container
            )
        elif settings.blob_account_url:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential()
            client = ContainerClient(
                settings.blob_account_url, settings.blob_container, credential=credential
            )
        else:
            raise ConfigurationError(
                "AzureBlobStore needs WDP_BLOB_CONNECTION_STRING or WDP_BLOB_ACCOUNT_URL"
            )
        events = None
        if settings.blob_emit_events and bus is not None:
            schema: EventSchema = settings.blob_event_schema
            events = BlobEventPublisher(
                bus,
                account=client.account_name or "unknown",
                container=client.container_name,
                schema=schema,
            )
        return cls(client, events=events, credential=credential)

    # ------------------------------------------------------------------ helpers
    def _info(self, path: str, props: BlobProperties, url: str) -> BlobInfo:
        metadata = dict(props.metadata or {})
        sha = metadata.pop(SHA256_METADATA_KEY, None)
        modified = props.last_modified or datetime.now(UTC)
        settings = props.content_settings
        return BlobInfo(
            path=path,
            size=int(props.size or 0),
            etag=_etag(props.etag),
            content_sha256=sha,
            last_modified=modified if modified.tzinfo else modified.replace(tzinfo=UTC),
            content_type=settings.content_type if settings else None,
            metadata=metadata,
            url=url,
        )

    async def _ensure_container(self) -> None:
        """Create the container on first write if IaC has not (Azurite, fresh accounts)."""
        if self._container_checked:
            return
        try:
            await self.client.create_container()
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            if exc.status_code != 403:
                raise
            # Data-plane role without container create: IaC owns the container; carry on.
            log.info(
                "not allowed to create container; assuming it exists",
                extra={"container": self.container},
            )
        self._container_checked = True

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
        """Upload (atomic on the service side), then publish BlobCreated if configured.

        Raises:
            BlobAlreadyExists: ``overwrite=False`` and the blob exists.
            BlobStorageUnavailable: network or service trouble (retry later).
        """
        validate_blob_path(path)
        blob = self.client.get_blob_client(path)
        meta = dict(metadata or {})
        meta[SHA256_METADATA_KEY] = hashlib.sha256(data).hexdigest()
        settings = ContentSettings(content_type=content_type, content_encoding=content_encoding)
        try:
            await self._ensure_container()
            result: dict[str, Any] = await blob.upload_blob(
                data, overwrite=overwrite, metadata=meta, content_settings=settings
            )
        except ResourceExistsError as exc:
            raise BlobAlreadyExists(path) from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise BlobStorageUnavailable(f"upload of {path!r} failed: {exc}") from exc
        modified = result.get("last_modified") or datetime.now(UTC)
        info = BlobInfo(
            path=path,
            size=len(data),
            etag=_etag(result.get("etag")),
            content_sha256=meta[SHA256_METADATA_KEY],
            last_modified=modified,
            content_type=content_type,
            metadata=dict(metadata or {}),
            url=blob.url,
        )
        if self.events is not None:
            api = "PutBlob" if len(data) <= _SINGLE_PUT_LIMIT else "PutBlockList"
            await self.events.blob_created(info, api=api)
        return info

    # ------------------------------------------------------------------ reads
    async def get(self, path: str) -> bytes:
        """The whole blob. Raises :class:`BlobNotFound`."""
        blob = self.client.get_blob_client(validate_blob_path(path))
        try:
            downloader = await blob.download_blob(decompress=False)
            return await downloader.readall()
        except ResourceNotFoundError as exc:
            raise BlobNotFound(path) from exc

    async def stream(self, path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """Ranged reads of ``chunk_size`` bytes, so memory is constant in blob size."""
        blob = self.client.get_blob_client(validate_blob_path(path))
        offset = 0
        while True:
            try:
                downloader = await blob.download_blob(
                    offset=offset, length=chunk_size, decompress=False
                )
            except ResourceNotFoundError as exc:
                raise BlobNotFound(path) from exc
            except HttpResponseError as exc:
                # A range starting at the end (empty blob, or a size that is a multiple of
                # chunk_size) is "416 range not satisfiable": that is the end of the stream.
                if exc.status_code == 416:
                    return
                raise
            chunk = await downloader.readall()
            if chunk:
                yield chunk
            if len(chunk) < chunk_size:
                return
            offset += len(chunk)

    async def download_to(self, path: str, destination: Path) -> BlobInfo:
        """Stream into a temp file beside ``destination`` and replace it atomically."""
        blob = self.client.get_blob_client(validate_blob_path(path))
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".dl-", dir=destination.parent)
        try:
            downloader = await blob.download_blob(decompress=False)
            with os.fdopen(fd, "wb") as fh:
                async for chunk in downloader.chunks():
                    fh.write(chunk)
            os.replace(tmp_name, destination)
        except ResourceNotFoundError as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise BlobNotFound(path) from exc
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return self._info(path, downloader.properties, blob.url)

    async def info(self, path: str) -> BlobInfo:
        """Properties and metadata. Raises :class:`BlobNotFound`."""
        blob = self.client.get_blob_client(validate_blob_path(path))
        try:
            props = await blob.get_blob_properties()
        except ResourceNotFoundError as exc:
            raise BlobNotFound(path) from exc
        return self._info(path, props, blob.url)

    async def list(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        """Every blob whose name starts with ``prefix``, in name order (the service's)."""
        try:
            async for props in self.client.list_blobs(
                name_starts_with=prefix or None, include=["metadata"]
            ):
                name = str(props.name)
                yield self._info(name, props, self.client.get_blob_client(name).url)
        except ResourceNotFoundError:
            return  # no container yet: nothing listed, same as an empty local folder

    async def delete(self, path: str) -> bool:
        """Delete blob and snapshots; ``False`` when nothing was there."""
        blob = self.client.get_blob_client(validate_blob_path(path))
        try:
            await blob.delete_blob(delete_snapshots="include")
        except ResourceNotFoundError:
            return False
        return True

    async def close(self) -> None:
        """Close the HTTP pipeline (and the credential we created)."""
        await self.client.close()
        if self._credential is not None:
            await self._credential.close()
