"""Webhook delivery the way WHOOP does it: signed, retried, sometimes duplicated or lost.

Each event is POSTed as compact JSON with ``X-WHOOP-Signature`` /
``X-WHOOP-Signature-Timestamp`` (see :mod:`shared.whoop_signature`). A non-2xx answer or a
timeout is retried on ``retry_schedule_s`` (WHOOP: 5 retries over about an hour; tests pass an
accelerated schedule); every retry is re-signed with a fresh timestamp. Delivery runs in
background tasks so the admin call or clock tick that caused it returns at once. Faults can
drop an event (it never leaves; reconciliation must find it) or deliver it twice with the same
``trace_id`` (receivers must dedupe).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from shared.whoop_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

logger = logging.getLogger(__name__)


@dataclass
class WebhookFaults:
    """Fault knobs the dispatcher reads on every event."""

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0


class WebhookDispatcher:
    """Signs and delivers events to the app's registered URL; keeps a delivery log."""

    def __init__(
        self,
        client_secret: str,
        retry_schedule_s: list[float],
        timeout_s: float,
        *,
        url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self._secret = client_secret
        self.retry_schedule_s = list(retry_schedule_s)
        self._timeout_s = timeout_s
        self._transport = transport
        self._rng = rng or random.Random(0)
        self.faults = WebhookFaults()
        self.log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout_s)
        return self._client

    async def aclose(self) -> None:
        """Cancel pending deliveries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def pending(self) -> int:
        """Deliveries still running (first attempt or waiting to retry)."""
        return len(self._tasks)

    def emit(self, user_id: int, record_id: str, event_type: str) -> dict[str, Any] | None:
        """Queue one event (must be called on the running event loop).

        Returns:
            The event body, or None when no URL is registered.
        """
        if not self.url:
            return None
        event = {
            "user_id": user_id,
            "id": record_id,
            "type": event_type,
            "trace_id": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
        }
        if self._rng.random() < self.faults.drop_rate:
            self._record(event, 0, "dropped", None, "fault: webhook drop")
            return event
        copies = 2 if self._rng.random() < self.faults.duplicate_rate else 1
        for _ in range(copies):
            task = asyncio.get_running_loop().create_task(self._deliver(self.url, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return event

    def _record(
        self,
        event: dict[str, Any],
        attempt: int,
        outcome: str,
        status_code: int | None,
        error: str | None,
        delivery_id: str | None = None,
    ) -> None:
        self.log.append(
            {
                "delivery_id": delivery_id or str(uuid.UUID(int=self._rng.getrandbits(128))),
                "trace_id": event["trace_id"],
                "type": event["type"],
                "user_id": event["user_id"],
                "id": event["id"],
                "attempt": attempt,
                "outcome": outcome,
                "status_code": status_code,
                "error": error,
                "at_ms": int(time.time() * 1000),
            }
        )

    async def _deliver(self, url: str, event: dict[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        delivery_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        attempts = 1 + len(self.retry_schedule_s)
        for attempt in range(1, attempts + 1):
            ts = str(int(time.time() * 1000))
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self._secret, ts, body),
                TIMESTAMP_HEADER: ts,
            }
            status: int | None = None
            error: str | None = None
            try:
                resp = await self._http().post(url, content=body, headers=headers)
                status = resp.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if status is not None and 200 <= status < 300:
                self._record(event, attempt, "delivered", status, None, delivery_id)
                return
            last = attempt == attempts
            self._record(
                event, attempt, "gave_up" if last else "failed", status, error, delivery_id
            )
            logger.info(
                "webhook delivery failed",
                extra={"type": event["type"], "attempt": attempt, "status": status},
            )
            if last:
                return
            await asyncio.sleep(self.retry_schedule_s[attempt - 1])
