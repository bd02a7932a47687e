"""SqliteTokenStore encryption and the single-flight refresh of rotating WHOOP tokens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.errors import ConfigurationError
from shared.ports.tokens import StoredTokens
from shared.whoop_auth import ReauthRequired, TokenProvider, UnknownUser, WhoopOAuth

KEY = SecretStr(Fernet.generate_key().decode())


class RotatingTokenEndpoint:
    """WHOOP's rotation rules: each refresh token works once; reuse → invalid_grant."""

    def __init__(self, live_refresh: str, *, delay_s: float = 0.02) -> None:
        self.live_refresh = live_refresh
        self.calls = 0
        self.delay_s = delay_s

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
        assert form["client_secret"] == "s3cret"  # client_secret_post, not Basic
        assert "authorization" not in request.headers
        self.calls += 1
        await asyncio.sleep(self.delay_s)  # widen the race window
        if form["refresh_token"] != self.live_refresh:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "used"})
        self.live_refresh = f"r{self.calls}"
        return httpx.Response(
            200,
            json={
                "access_token": f"a{self.calls}",
                "refresh_token": self.live_refresh,
                "expires_in": 3600,
                "scope": "offline read:sleep",
                "token_type": "bearer",
            },
        )


def _oauth(endpoint: RotatingTokenEndpoint) -> WhoopOAuth:
    http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    return WhoopOAuth(
        http,
        oauth_base_url="http://whoop/oauth/oauth2",
        client_id="c",
        client_secret=SecretStr("s3cret"),
    )


def _expired(refresh: str = "r0") -> StoredTokens:
    return StoredTokens("a0", refresh, datetime.now(UTC) + timedelta(seconds=30), "offline")


async def test_tokens_are_encrypted_at_rest(tmp_path: Path) -> None:
    store = SqliteTokenStore(tmp_path / "t.sqlite3", KEY)
    tokens = StoredTokens("access-PLAIN", "refresh-PLAIN", datetime.now(UTC), "offline")
    await store.save_tokens(7, tokens)
    raw = store.raw_ciphertext(7)
    assert raw is not None and b"PLAIN" not in raw
    assert b"PLAIN" not in (tmp_path / "t.sqlite3").read_bytes()
    assert await store.load_tokens(7) == tokens
    other_key = SqliteTokenStore(tmp_path / "t.sqlite3", SecretStr("another key"))
    with pytest.raises(ConfigurationError):
        await other_key.load_tokens(7)


async def test_user_registry_round_trip(tmp_path: Path) -> None:
    store = SqliteTokenStore(tmp_path / "t.sqlite3", KEY)
    await store.upsert_user(1, status="active", email="a@example.com")
    await store.upsert_user(1, status="needs_reauth", status_reason="invalid_grant")
    user = await store.get_user(1)
    assert user is not None and user.status == "needs_reauth" and user.email == "a@example.com"
    assert [u.user_id async for u in store.list_users()] == [1]
    await store.delete_tokens(1)
    assert await store.load_tokens(1) is None


async def test_concurrent_workers_cause_exactly_one_refresh(tmp_path: Path) -> None:
    endpoint = RotatingTokenEndpoint("r0")
    path = tmp_path / "t.sqlite3"
    await SqliteTokenStore(path, KEY).save_tokens(42, _expired())
    # Separate store + provider instances behave like separate processes (own flock fds).
    providers = [TokenProvider(SqliteTokenStore(path, KEY), _oauth(endpoint)) for _ in range(5)]
    tokens = await asyncio.gather(*(p.access_token(42) for p in providers for _ in range(6)))
    assert endpoint.calls == 1
    assert set(tokens) == {"a1"}
    stored = await SqliteTokenStore(path, KEY).load_tokens(42)
    assert stored is not None and stored.refresh_token == "r1"


async def test_forced_refresh_after_401_is_single_flight(tmp_path: Path) -> None:
    endpoint = RotatingTokenEndpoint("r0")
    store = SqliteTokenStore(tmp_path / "t.sqlite3", KEY)
    fresh = StoredTokens("a0", "r0", datetime.now(UTC) + timedelta(hours=1), "offline")
    await store.save_tokens(5, fresh)
    provider = TokenProvider(store, _oauth(endpoint))
    results = await asyncio.gather(*(provider.force_refresh(5, "a0") for _ in range(8)))
    assert endpoint.calls == 1 and set(results) == {"a1"}


async def test_invalid_grant_marks_user_needs_reauth(tmp_path: Path) -> None:
    endpoint = RotatingTokenEndpoint("some-other-token")
    store = SqliteTokenStore(tmp_path / "t.sqlite3", KEY)
    await store.save_tokens(9, _expired("dead"))
    provider = TokenProvider(store, _oauth(endpoint))
    with pytest.raises(ReauthRequired):
        await provider.access_token(9)
    user = await store.get_user(9)
    assert user is not None and user.status == "needs_reauth"
    assert user.status_reason is not None and "invalid_grant" in user.status_reason
    with pytest.raises(ReauthRequired):  # terminal: no second refresh attempt
        await provider.access_token(9)
    assert endpoint.calls == 1


async def test_unknown_user(tmp_path: Path) -> None:
    provider = TokenProvider(
        SqliteTokenStore(tmp_path / "t.sqlite3", KEY), _oauth(RotatingTokenEndpoint("x"))
    )
    with pytest.raises(UnknownUser):
        await provider.access_token(404)
