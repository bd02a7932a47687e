"""WhoopClient: retries on 5xx/timeouts/truncated bodies, 429 handling, 401 refresh, paging."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.ports.tokens import StoredTokens
from shared.whoop_auth import TokenProvider, WhoopOAuth
from shared.whoop_client import RetryPolicy, WhoopClient, WhoopNotFound, WhoopUnavailable
from shared.whoop_ratelimit import RateLimits, SqliteRateLimiter

Handler = Callable[[httpx.Request], httpx.Response]


async def _client(tmp_path: Path, handler: Handler, *, attempts: int = 4) -> WhoopClient:
    store = SqliteTokenStore(tmp_path / "t.db", SecretStr(Fernet.generate_key().decode()))
    await store.save_tokens(
        1, StoredTokens("a0", "r0", datetime.now(UTC) + timedelta(hours=1), "offline")
    )

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "access_token": "a1",
                "refresh_token": "r1",
                "expires_in": 3600,
                "scope": "offline",
            },
        )

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return token_endpoint(request)
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(route))
    oauth = WhoopOAuth(
        http, oauth_base_url="http://w/oauth/oauth2", client_id="c", client_secret=SecretStr("s")
    )

    async def no_sleep(_: float) -> None:
        return None

    limiter = SqliteRateLimiter(tmp_path / "rl.db", RateLimits(1000, 100_000), sleep=no_sleep)
    return WhoopClient(
        http,
        base_url="http://w/developer",
        tokens=TokenProvider(store, oauth),
        limiter=limiter,
        retry=RetryPolicy(attempts, 0.0, 0.0),
        sleep=no_sleep,
    )


def _sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses[min(len(seen) - 1, len(responses) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


OK = httpx.Response(200, json={"id": 5})


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, text="boom"),
        httpx.Response(503),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.Response(200, content=b'{"id": 5, "user'),  # truncated body
        httpx.Response(429, headers={"X-RateLimit-Reset": "0"}),
    ],
    ids=["500", "503", "timeout", "short-read", "truncated-json", "429"],
)
async def test_transient_failures_are_retried(tmp_path: Path, failure: object) -> None:
    handler, seen = _sequence(failure, failure, OK)  # type: ignore[arg-type]
    client = await _client(tmp_path, handler)
    assert await client.get_json("/v2/cycle/5", user_id=1) == {"id": 5}
    assert len(seen) == 3 and client.stats.requests == 3


async def test_gives_up_after_max_attempts(tmp_path: Path) -> None:
    handler, seen = _sequence(httpx.Response(502))
    client = await _client(tmp_path, handler, attempts=3)
    with pytest.raises(WhoopUnavailable):
        await client.get_json("/v2/cycle/5", user_id=1)
    assert len(seen) == 3


async def test_404_is_terminal_and_not_retried(tmp_path: Path) -> None:
    handler, seen = _sequence(httpx.Response(404))
    client = await _client(tmp_path, handler)
    with pytest.raises(WhoopNotFound):
        await client.get_json("/v2/cycle/5", user_id=1)
    assert len(seen) == 1


async def test_401_refreshes_once_then_succeeds(tmp_path: Path) -> None:
    handler, seen = _sequence(httpx.Response(401), OK)
    client = await _client(tmp_path, handler)
    assert await client.get_json("/v2/cycle/5", user_id=1) == {"id": 5}
    assert [r.headers["authorization"] for r in seen] == ["Bearer a0", "Bearer a1"]


async def test_pagination_keeps_bounds_and_uses_camel_case_cursor(tmp_path: Path) -> None:
    pages = {None: (["a", "b"], "t1"), "t1": (["c"], "t2"), "t2": ([], None)}
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert "next_token" not in request.url.params
        records, nxt = pages[request.url.params.get("nextToken")]
        return httpx.Response(
            200, content=json.dumps({"records": [{"id": r} for r in records], "next_token": nxt})
        )

    client = await _client(tmp_path, handler)
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    got = [p async for p in client.paginate("/v2/cycle", user_id=1, start=start, end=end)]
    assert [[r["id"] for r in p.records] for p in got] == [["a", "b"], ["c"], []]
    assert {(r.url.params["start"], r.url.params["end"], r.url.params["limit"]) for r in seen} == {
        ("2025-01-01T00:00:00.000Z", "2025-02-01T00:00:00.000Z", "25")
    }
    resumed = [
        p async for p in client.paginate("/v2/cycle", user_id=1, start=start, end=end, cursor="t2")
    ]
    assert len(resumed) == 1 and resumed[0].cursor == "t2"
