"""``AzureBlobTokenStore``: one encrypted blob per user, blob leases as the refresh lock.

Layout in the token container (private, separate from the lake):

* ``users/<user_id>.json``: the registration (status, email, reason, timestamps), plain JSON;
* ``tokens/<user_id>.bin``: the Fernet ciphertext of the token pair (the key stays in Key Vault);
* ``locks/<user_id>``: an empty blob whose **lease** is the per-user refresh mutex across every
  replica. A lease held by a crashed replica expires on its own after ``lease_s`` (15–60 s), so
  a dead refresher never wedges a user.

azure-storage-blob is already a platform dependency, so this needs no Table Storage SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient, ContainerClient
from pydantic import SecretStr

from shared.adapters.blob.service_client import blob_service_client
from shared.adapters.tokens.crypto import decrypt_tokens, encrypt_tokens, fernet_from_secret
from shared.adapters.tokens.sqlite import RefreshLockTimeout
from shared.errors import ConfigurationError
from shared.ports.tokens import StoredTokens, TokenStore, UserRecord, UserStatus
from shared.settings import PlatformSettings

DEFAULT_CONTAINER = "wdp-tokens"


class AzureBlobTokenStore(TokenStore):
    """Token store on Azure Blob Storage (Azurite in tests)."""

    def __init__(
        self,
        container: ContainerClient,
        encryption_key: SecretStr,
        *,
        lease_s: int = 60,
        service: BlobServiceClient | None = None,
    ) -> None:
        if not 15 <= lease_s <= 60:
            raise ConfigurationError("blob lease duration must be 15..60 seconds")
        self._container = container
        self._service = service
        self._cipher = fernet_from_secret(encryption_key)
        self.lease_s = lease_s
        self._ready = False

    @classmethod
    def from_settings(
        cls,
        settings: PlatformSettings,
        *,
        encryption_key: SecretStr,
        container: str = DEFAULT_CONTAINER,
    ) -> AzureBlobTokenStore:
        """Connection string (Azurite, CI) or account URL + managed identity (Azure)."""
        service = blob_service_client(settings, purpose="token store")
        return cls(service.get_container_client(container), encryption_key, service=service)

    async def _ensure(self) -> None:
        if self._ready:
            return
        with contextlib.suppress(ResourceExistsError):
            await self._container.create_container()
        self._ready = True

    async def _read(self, name: str) -> bytes | None:
        await self._ensure()
        try:
            stream = await self._container.download_blob(name)
            return bytes(await stream.readall())
        except ResourceNotFoundError:
            return None

    async def _write(self, name: str, data: bytes) -> None:
        await self._ensure()
        await self._container.upload_blob(name, data, overwrite=True)

    async def save_tokens(self, user_id: int, tokens: StoredTokens) -> None:
        if await self.get_user(user_id) is None:
            await self.upsert_user(user_id, status="active")
        await self._write(f"tokens/{user_id}.bin", encrypt_tokens(self._cipher, tokens))

    async def load_tokens(self, user_id: int) -> StoredTokens | None:
        blob = await self._read(f"tokens/{user_id}.bin")
        return None if blob is None else decrypt_tokens(self._cipher, blob)

    def refresh_lock(
        self, user_id: int, timeout_s: float = 30.0
    ) -> AbstractAsyncContextManager[None]:
        return self._lease(f"locks/{user_id}", timeout_s)

    @contextlib.asynccontextmanager
    async def _lease(self, name: str, timeout_s: float) -> AsyncIterator[None]:
        await self._ensure()
        blob = self._container.get_blob_client(name)
        with contextlib.suppress(ResourceExistsError):
            await blob.upload_blob(b"", overwrite=False)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                lease = await blob.acquire_lease(lease_duration=self.lease_s)
                break
            except HttpResponseError as exc:
                if exc.status_code != 409 or time.monotonic() > deadline:
                    if exc.status_code == 409:
                        raise RefreshLockTimeout(f"refresh lease {name} busy") from exc
                    raise
                await asyncio.sleep(0.05)
        try:
            yield
        finally:
            with contextlib.suppress(HttpResponseError):
                await lease.release()

    async def upsert_user(
        self,
        user_id: int,
        *,
        status: UserStatus,
        email: str | None = None,
        status_reason: str | None = None,
    ) -> UserRecord:
        now = datetime.now(UTC).isoformat()
        raw = await self._read(f"users/{user_id}.json")
        current: dict[str, Any] = {} if raw is None else json.loads(raw)
        reconnect = current.get("status") != "active" and status == "active"
        record = {
            "user_id": user_id,
            "status": status,
            "email": email if email is not None else current.get("email"),
            "status_reason": status_reason,
            "connected_at": now if reconnect or not current else current["connected_at"],
            "updated_at": now,
        }
        await self._write(f"users/{user_id}.json", json.dumps(record).encode())
        return _user(record)

    async def get_user(self, user_id: int) -> UserRecord | None:
        raw = await self._read(f"users/{user_id}.json")
        return None if raw is None else _user(json.loads(raw))

    async def list_users(self) -> AsyncIterator[UserRecord]:
        await self._ensure()
        async for props in self._container.list_blobs(name_starts_with="users/"):
            raw = await self._read(props.name)
            if raw is not None:
                yield _user(json.loads(raw))

    async def delete_tokens(self, user_id: int) -> None:
        await self._ensure()
        with contextlib.suppress(ResourceNotFoundError):
            await self._container.delete_blob(f"tokens/{user_id}.bin")

    async def delete_user(self, user_id: int) -> None:
        await self._ensure()
        for name in (f"tokens/{user_id}.bin", f"users/{user_id}.json"):
            with contextlib.suppress(ResourceNotFoundError):
                await self._container.delete_blob(name)

    async def raw_ciphertext(self, user_id: int) -> bytes | None:
        """The stored bytes, for tests and audits proving nothing is kept in plain text."""
        return await self._read(f"tokens/{user_id}.bin")

    async def close(self) -> None:
        await self._container.close()
        if self._service is not None:
            await self._service.close()


def _user(data: dict[str, Any]) -> UserRecord:
    return UserRecord(
        user_id=int(data["user_id"]),
        status=data["status"],
        connected_at=datetime.fromisoformat(data["connected_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        email=data.get("email"),
        status_reason=data.get("status_reason"),
    )
