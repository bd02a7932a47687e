"""AzureBlobTokenStore on Azurite: encryption at rest and the lease-based refresh lock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from shared.adapters.tokens.azure_blob import AzureBlobTokenStore
from shared.ports.tokens import StoredTokens
from shared.settings import PlatformSettings
from shared.whoop_auth import TokenProvider, WhoopOAuth

KEY = SecretStr(Fernet.generate_key().decode())


def _store(azurite: Any, container: str) -> AzureBlobTokenStore:
    settings = PlatformSettings(blob_connection_string=SecretStr(azurite.connection_string))
    return AzureBlobTokenStore.from_settings(settings, encryption_key=KEY, container=container)


async def test_encrypted_round_trip_and_single_refresh(azurite: Any) -> None:
    container = f"tok{uuid.uuid4().hex[:12]}"
    store = _store(azurite, container)
    try:
        tokens = StoredTokens("PLAINACCESS", "r0", datetime.now(UTC) + timedelta(seconds=5), "x")
        await store.save_tokens(3, tokens)
        raw = await store.raw_ciphertext(3)
        assert raw is not None and b"PLAINACCESS" not in raw
        assert await store.load_tokens(3) == tokens
        await store.upsert_user(3, status="active", email="u@example.com")
        assert [u.user_id async for u in store.list_users()] == [3]

        calls = 0

        async def token_endpoint(request: httpx.Request) -> httpx.Response:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.05)
            return httpx.Response(
                200,
                json={
                    "access_token": "a1",
                    "refresh_token": "r1",
                    "expires_in": 3600,
                    "scope": "offline",
                },
            )

        http = httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint))
        oauth = WhoopOAuth(
            http, oauth_base_url="http://w", client_id="c", client_secret=SecretStr("s")
        )
        others = [_store(azurite, container) for _ in range(3)]  # three "replicas"
        try:
            got = await asyncio.gather(
                *(TokenProvider(s, oauth).access_token(3) for s in others for _ in range(3))
            )
        finally:
            for s in others:
                await s.close()
        assert calls == 1 and set(got) == {"a1"}
        await store.delete_tokens(3)
        assert await store.load_tokens(3) is None
    finally:
        await store.close()
