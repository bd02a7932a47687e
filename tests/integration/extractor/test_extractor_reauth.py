"""Tokens: a concurrent rotation is not a revoked grant; a revoked grant parks, never dead-letters.

Driven through the extractor's real consumers on LocalBus against the simulator, whose OAuth
server rotates on every refresh (the old access token dies, a reused refresh token gets
``invalid_grant``), exactly like WHOOP.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from extractor_harness import Harness, connect, full_sync, main_sleep, make_harness

from shared.adapters.bus.local import LocalBus
from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.contracts import (
    SyncReason,
    SyncRequested,
    Topic,
    UserConnected,
    WebhookEventType,
    WebhookReceived,
    decode,
)
from shared.messaging import publish_message
from shared.ports.tokens import StoredTokens
from shared.whoop_auth import TokenProvider
from shared.whoop_ratelimit import RateLimiter, RateLimits, SqliteRateLimiter


class RotatingWhileWaiting(RateLimiter):
    """A limiter during whose waits *another worker* rotates the user's tokens.

    That is the production race: the 401 retry waits for a grant while a second extractor
    replica refreshes, which kills the token the retry is about to send.
    """

    def __init__(self, inner: RateLimiter) -> None:
        self.inner = inner
        self.other: TokenProvider | None = None
        self.user_id = 0
        self.rotate_on: set[int] = set()
        self.calls = 0

    async def acquire(self, *args: Any, **kwargs: Any) -> float:
        self.calls += 1
        if self.other is not None and self.calls in self.rotate_on:
            current = await self.other.store.load_tokens(self.user_id)
            assert current is not None
            await self.other.force_refresh(self.user_id, current.access_token)
        return await self.inner.acquire(*args, **kwargs)

    async def observe(self, status_code: int, headers: Mapping[str, str]) -> None:
        await self.inner.observe(status_code, headers)


async def _bus(h: Harness, tmp_path: Path) -> LocalBus:
    bus = LocalBus(tmp_path / "bus.sqlite3")
    await bus.ensure_topology()
    h.app.bus = bus
    h.app.extractor.bus = bus
    return bus


async def _drain(h: Harness, bus: LocalBus, topic: Topic) -> int:
    """Process everything queued on one extractor subscription; returns messages handled."""
    consumer = next(c for c in h.app.consumers() if c.topic is topic)
    handled = 0
    while received := await bus.receive(topic.value, "extractor", max_wait_s=0.2):
        await consumer.process(received)
        handled += len(received)
    assert consumer.dead_lettered == 0
    return handled


def _webhook(h: Harness, record_id: str, trace: str) -> WebhookReceived:
    return WebhookReceived(
        user_id=h.user_id,
        event_type=WebhookEventType.SLEEP_UPDATED,
        record_id=record_id,
        whoop_trace_id=trace,
        received_at=datetime.now(UTC),
    )


async def test_rotation_by_another_worker_during_the_401_retry_is_not_a_revoked_grant(
    tmp_path: Path,
) -> None:
    limiter = RotatingWhileWaiting(
        SqliteRateLimiter(tmp_path / "rl.sqlite3", RateLimits(10_000, 100_000))
    )
    h, _ = await make_harness(tmp_path, limiter=limiter)
    bus = await _bus(h, tmp_path)
    try:
        assert h.token_key is not None
        limiter.other = TokenProvider(
            SqliteTokenStore(h.tokens.path, h.token_key), h.app.extractor.client.tokens.oauth
        )
        limiter.user_id = h.user_id
        # Request 1 goes out with the stored token, which another worker rotates just before
        # (→ 401); the retry re-reads the store and waits again, and the other worker rotates
        # once more (→ 401 again); the third try uses the stored token and succeeds.
        limiter.calls = 0
        limiter.rotate_on = {1, 2}
        sleep = main_sleep(h)
        await publish_message(bus, _webhook(h, sleep["id"], "race-1"))
        assert await _drain(h, bus, Topic.WEBHOOK_RECEIVED) == 1
        user = await h.tokens.get_user(h.user_id)
        assert user is not None and user.status == "active", user
        assert sleep in await h.lines("sleep")
        assert await h.app.extractor.state.count_parked() == {}
    finally:
        await bus.close()
        await h.app.close()
        await h.http.aclose()


async def test_revoked_grant_parks_messages_and_reconnect_replays_and_resumes(
    tmp_path: Path,
) -> None:
    h, cfg = await make_harness(tmp_path)
    bus = await _bus(h, tmp_path)
    try:
        await full_sync(h)  # history up to now: the watermarks a reconnect resumes from
        marks = [await h.app.extractor.state.watermark(h.user_id, r) for r in ("cycle", "sleep")]
        # The grant dies: the stored refresh token was used elsewhere (invalid_grant).
        dead = StoredTokens("dead-access", "dead-refresh", datetime.now(UTC), "offline")
        await h.tokens.save_tokens(h.user_id, dead)
        sleep = main_sleep(h)
        await publish_message(bus, _webhook(h, sleep["id"], "while-revoked"))
        sync = SyncRequested(
            job_id="sync-while-revoked",
            user_id=h.user_id,
            start=datetime.now(UTC) - timedelta(days=2),
            end=datetime.now(UTC),
            reason=SyncReason.ON_DEMAND,
            requested_at=datetime.now(UTC),
        )
        await publish_message(bus, sync, message_id=sync.job_id)

        assert await _drain(h, bus, Topic.WEBHOOK_RECEIVED) == 1
        assert await _drain(h, bus, Topic.SYNC_REQUESTED) == 1
        user = await h.tokens.get_user(h.user_id)
        assert user is not None and user.status == "needs_reauth"
        assert await h.app.extractor.state.count_parked() == {h.user_id: 2}
        job = await h.app.jobs.get("sync-while-revoked")
        assert job is not None and job.status == "queued"  # waiting, not failed
        before = len(await h.lines("sleep"))

        # The member consents again; the receiver stores tokens and announces the connection.
        await connect(h.http, h.tokens, h.user_id, cfg)
        connected_at = datetime.now(UTC)
        await publish_message(
            bus, UserConnected(user_id=h.user_id, backfill_days=90, connected_at=connected_at)
        )
        assert await _drain(h, bus, Topic.USER_CONNECTED) == 1
        assert await h.app.extractor.state.count_parked() == {}

        # Resume from the last synced point, not 90 days of history again.
        queued = await bus.receive(
            Topic.SYNC_REQUESTED.value, "extractor", max_messages=10, max_wait_s=0.5
        )
        requests = [decode(Topic.SYNC_REQUESTED, m.body) for m in queued]
        for m in queued:
            await bus.abandon(m)
        resume = [r for r in requests if r.job_id.startswith("resume-")]  # type: ignore[attr-defined]
        assert len(resume) == 1
        known = [m for m in marks if m is not None]
        assert resume[0].start >= min(known) - timedelta(hours=h.app.settings.overlap_hours)  # type: ignore[attr-defined]
        overlap = timedelta(hours=h.app.settings.overlap_hours)
        assert resume[0].start > connected_at - overlap - timedelta(days=1)  # not 90 days  # type: ignore[attr-defined]
        assert {r.job_id for r in requests} >= {"sync-while-revoked"}  # type: ignore[attr-defined]

        # The replayed messages now succeed.
        assert await _drain(h, bus, Topic.WEBHOOK_RECEIVED) == 1
        assert await _drain(h, bus, Topic.SYNC_REQUESTED) == 2
        assert len(await h.lines("sleep")) > before
        job = await h.app.jobs.get("sync-while-revoked")
        assert job is not None and job.status == "succeeded"
    finally:
        await bus.close()
        await h.app.close()
        await h.http.aclose()
