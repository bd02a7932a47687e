"""Receiver test harness: the real app (lifespan, LocalBus) wired to the simulator over ASGI."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

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
