"""Receiver test harness: the real app (lifespan, LocalBus) wired to the simulator over ASGI."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
from fastapi import FastAPI

from shared.adapters.bus.local import LocalBus
from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.contracts import Topic
from shared.ports.bus import ReceivedMessage
from shared.whoop_signature import sign

SIM = "http://sim"
RX = "http://rx"
SECRET = "wdp-local-client-secret"
ADMIN_KEY = "k-admin"


@dataclass
class Rx:
    app: FastAPI
    client: httpx.AsyncClient
    sim: FastAPI
    sim_client: httpx.AsyncClient
    bus: LocalBus
    tokens: SqliteTokenStore
    users: list[int]
    platform: Any = None
    secrets: Any = None

    async def drain(self, topic: Topic) -> list[ReceivedMessage]:
        out: list[ReceivedMessage] = []
        while True:
            got = await self.bus.receive(topic.value, "extractor", max_messages=50, max_wait_s=0.05)
            if not got:
                return out
            for m in got:
                await self.bus.complete(m)
            out.extend(got)

    async def webhook(
        self,
        body: bytes | dict[str, Any],
        *,
        ts_ms: int | None = None,
        signature: str | None = "auto",
        **headers: str,
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        ts = str(ts_ms if ts_ms is not None else int(time.time() * 1000))
        sent = dict(headers)
        sent.setdefault("X-WHOOP-Signature-Timestamp", ts)
        if signature == "auto":
            sent["X-WHOOP-Signature"] = sign(SECRET, ts, raw)
        elif signature is not None:
            sent["X-WHOOP-Signature"] = signature
        return await self.client.post("/webhooks/whoop", content=raw, headers=sent)


class LateASGITransport(httpx.AsyncBaseTransport):
    """ASGI transport whose app is set later (the simulator and receiver point at each other)."""

    def __init__(self) -> None:
        self.app: Any = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await httpx.ASGITransport(app=self.app).handle_async_request(request)


async def connect(rx: Rx, user_id: int) -> tuple[str, str]:
    """login → simulator authorize (auto-approve) → callback; returns (state, session)."""
    login = await rx.client.get("/auth/whoop/login")
    assert login.status_code == 302
    location = login.headers["location"]
    assert location.startswith(f"{SIM}/oauth/oauth2/auth?")
    query = parse_qs(urlparse(location).query)
    assert set(query["scope"][0].split()) >= {"offline", "read:recovery", "read:body_measurement"}
    assert query["redirect_uri"] == [f"{RX}/auth/whoop/callback"]
    state = query["state"][0]
    assert len(state) >= 8
    cookie = login.cookies.get("wdp_oauth_session")
    assert cookie and "httponly" in login.headers["set-cookie"].lower()
    approve = await rx.sim_client.get(
        f"{location}&{urlencode({'user_id': user_id, 'approve': 'true'})}"
    )
    assert approve.status_code == 302
    callback = approve.headers["location"]
    assert callback.startswith(f"{RX}/auth/whoop/callback?")
    resp = await rx.client.get(callback.removeprefix(RX))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"user_id": user_id, "status": "connected"}
    return state, cookie
