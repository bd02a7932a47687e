"""Webhook-driven fetches, tombstones, reconciliation, connect/disconnect, reauth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from extractor_harness import Harness, full_sync, main_sleep, visible

from shared.contracts import (
    Topic,
    UserConnected,
    UserDisconnected,
    WebhookEventType,
    WebhookReceived,
    decode,
)
from shared.ports.tokens import StoredTokens
from shared.whoop_auth import ReauthRequired


def event(h: Harness, kind: WebhookEventType, record_id: str, trace: str = "t1") -> WebhookReceived:
    return WebhookReceived(
        user_id=h.user_id,
        event_type=kind,
        record_id=record_id,
        whoop_trace_id=trace,
        received_at=datetime.now(UTC),
    )


async def test_sleep_updated_fetches_sleep_and_its_cycle(harness: Harness) -> None:
    sleep = main_sleep(harness)
    await harness.app.extractor.handle_webhook(
        event(harness, WebhookEventType.SLEEP_UPDATED, sleep["id"])
    )
    assert await harness.lines("sleep") == [sleep]
    cycles = {c["id"]: c for c in await harness.lines("cycle")}
    assert sleep["cycle_id"] in cycles
    # the cycle this sleep closed (its final day strain) comes in the same call
    assert any(
        c.get("end") == sleep["start"] or c["id"] < sleep["cycle_id"] for c in cycles.values()
    )
    paths = [r.url.path for r in harness.requests]
    assert paths == [f"/developer/v2/activity/sleep/{sleep['id']}", "/developer/v2/cycle"]


async def test_recovery_after_its_sleep_costs_one_whoop_call(harness: Harness) -> None:
    sleep = main_sleep(harness)
    await harness.app.extractor.handle_webhook(
        event(harness, WebhookEventType.SLEEP_UPDATED, sleep["id"])
    )
    harness.requests.clear()
    await harness.app.extractor.handle_webhook(
        event(harness, WebhookEventType.RECOVERY_UPDATED, sleep["id"], trace="t-rec")
    )
    assert [r.url.path for r in harness.requests] == [
        f"/developer/v2/cycle/{sleep['cycle_id']}/recovery"
    ]
    assert len(await harness.lines("recovery")) == 1


async def test_recovery_updated_resolves_sleep_then_cycle_recovery(harness: Harness) -> None:
    sleep = main_sleep(harness)
    await harness.app.extractor.handle_webhook(
        event(harness, WebhookEventType.RECOVERY_UPDATED, sleep["id"])
    )
    recoveries = await harness.lines("recovery")
    assert len(recoveries) == 1 and recoveries[0]["sleep_id"] == sleep["id"]
    assert recoveries[0]["cycle_id"] == sleep["cycle_id"]
    assert f"/developer/v2/cycle/{sleep['cycle_id']}/recovery" in {
        r.url.path for r in harness.requests
    }


async def test_recovery_not_yet_available_is_rescheduled(harness: Harness) -> None:
    sleep = main_sleep(harness)
    await harness.admin("DELETE", f"/admin/records/recovery/{harness.user_id}/{sleep['cycle_id']}")
    await harness.app.extractor.handle_webhook(
        event(harness, WebhookEventType.RECOVERY_UPDATED, sleep["id"])
    )
    assert await harness.lines("recovery") == []
    [(topic, msg)] = harness.bus.published
    assert topic == Topic.WEBHOOK_RECEIVED.value
    assert msg.scheduled_enqueue_time is not None
    assert msg.scheduled_enqueue_time > datetime.now(UTC) + timedelta(seconds=60)
    assert msg.application_properties["wdp_attempt"] == 2
    assert decode(Topic.WEBHOOK_RECEIVED, msg.body).record_id == sleep["id"]  # type: ignore[attr-defined]


async def test_workout_updated(harness: Harness) -> None:
    workout = next(iter(visible(harness, "workout").values()))
    await harness.app.extractor.handle_webhook(
        event(harness, WebhookEventType.WORKOUT_UPDATED, workout["id"])
    )
    assert await harness.lines("workout") == [workout]


GONE = "ecfc6a15-4661-442f-a9a4-f160dd7afae8"


@pytest.mark.parametrize(
    ("kind", "resource", "key_field"),
    [
        (WebhookEventType.SLEEP_DELETED, "sleep", "id"),
        (WebhookEventType.WORKOUT_DELETED, "workout", "id"),
        (WebhookEventType.RECOVERY_DELETED, "recovery", "sleep_id"),
    ],
)
async def test_deleted_events_write_tombstones(
    harness: Harness, kind: WebhookEventType, resource: str, key_field: str
) -> None:
    await harness.app.extractor.handle_webhook(event(harness, kind, GONE))
    [line] = await harness.lines(resource)
    assert line["wdp_tombstone"] is True and line["key_field"] == key_field
    assert line["key"] == GONE and line["user_id"] == harness.user_id
    assert line["source"] == "webhook" and line["deleted_at"].endswith("Z")
    assert harness.requests == []  # deletes never call WHOOP


async def test_reconciliation_catches_deletes_whose_webhook_was_dropped(harness: Harness) -> None:
    await full_sync(harness)
    sleep = main_sleep(harness)
    # No webhook URL is registered: the delete's webhooks go nowhere (dropped).
    fired = await harness.admin("DELETE", f"/admin/records/sleep/{harness.user_id}/{sleep['id']}")
    assert "recovery.deleted" in fired["webhooks"]
    result = await harness.app.extractor.reconcile_user(harness.user_id)
    assert result.tombstones.get("sleep") == [sleep["id"]]
    assert result.tombstones.get("recovery") == [sleep["id"]]  # keyed by the sleep UUID
    tombs = [x for x in await harness.lines("recovery") if x.get("wdp_tombstone")]
    assert tombs[0]["key_field"] == "sleep_id" and tombs[0]["source"] == "reconciliation"
    # A second pass finds nothing new: no duplicate tombstones, no rewritten records.
    again = await harness.app.extractor.reconcile_user(harness.user_id)
    assert again.tombstones == {} and again.written == 0


async def test_reconciliation_fetches_missed_updates(harness: Harness) -> None:
    await full_sync(harness)
    workout = max(visible(harness, "workout").values(), key=lambda w: w["start"])
    rescored = await harness.admin(
        "POST", f"/admin/records/workout/{harness.user_id}/{workout['id']}/rescore"
    )
    result = await harness.app.extractor.reconcile_user(harness.user_id)
    assert result.written == 1
    assert rescored in await harness.lines("workout")


async def test_user_connected_fetches_profile_and_queues_initial_backfill(
    harness: Harness,
) -> None:
    now = datetime.now(UTC)
    await harness.app.extractor.handle_connected(
        UserConnected(user_id=harness.user_id, backfill_days=30, connected_at=now)
    )
    assert await harness.lines("profile")
    [(topic, msg)] = harness.bus.published
    request = decode(Topic.SYNC_REQUESTED, msg.body)
    assert topic == Topic.SYNC_REQUESTED.value and request.user_id == harness.user_id  # type: ignore[attr-defined]
    assert request.end - request.start == timedelta(days=30)  # type: ignore[attr-defined]


async def test_user_disconnected_with_purge_deletes_bronze(harness: Harness) -> None:
    await full_sync(harness)
    await harness.app.extractor.handle_disconnected(
        UserDisconnected(user_id=harness.user_id, purge=True, disconnected_at=datetime.now(UTC))
    )
    assert [i async for i in harness.blobs.list("bronze/")] == []


async def test_invalid_grant_marks_needs_reauth_and_is_terminal(harness: Harness) -> None:
    expired = StoredTokens("dead", "used-refresh", datetime.now(UTC), "offline")
    await harness.tokens.save_tokens(harness.user_id, expired)
    sleep = main_sleep(harness)
    with pytest.raises(ReauthRequired):
        await harness.app.extractor.handle_webhook(
            event(harness, WebhookEventType.SLEEP_UPDATED, sleep["id"])
        )
    user = await harness.tokens.get_user(harness.user_id)
    assert user is not None and user.status == "needs_reauth"
    assert "invalid_grant" in (user.status_reason or "")
    token_calls = [r for r in harness.requests if r.url.path.endswith("/token")]
    with pytest.raises(ReauthRequired):  # no crash loop: later messages fail fast
        await harness.app.extractor.handle_webhook(
            event(harness, WebhookEventType.SLEEP_UPDATED, sleep["id"], trace="t2")
        )
    assert [r for r in harness.requests if r.url.path.endswith("/token")] == token_calls


async def test_concurrent_workers_refresh_once_against_rotating_simulator(
    harness: Harness,
) -> None:
    """The simulator kills a refresh token on first use: a second refresh would be fatal."""
    import asyncio

    from shared.adapters.tokens.sqlite import SqliteTokenStore
    from shared.whoop_auth import TokenProvider

    pair = await harness.tokens.load_tokens(harness.user_id)
    assert pair is not None
    near_expiry = StoredTokens(
        pair.access_token, pair.refresh_token, datetime.now(UTC) + timedelta(seconds=10), pair.scope
    )
    await harness.tokens.save_tokens(harness.user_id, near_expiry)
    oauth = harness.app.extractor.client.tokens.oauth
    assert harness.token_key is not None
    workers = [
        TokenProvider(SqliteTokenStore(harness.tokens.path, harness.token_key), oauth)
        for _ in range(4)
    ]
    got = await asyncio.gather(
        *(w.access_token(harness.user_id) for w in workers for _ in range(5))
    )
    assert len(set(got)) == 1 and got[0] != pair.access_token
    assert [r.url.path for r in harness.requests].count("/oauth/oauth2/token") == 1
    user = await harness.tokens.get_user(harness.user_id)
    assert user is not None and user.status == "active"
    sleep = main_sleep(harness)  # and the new token works against the API
    await harness.app.extractor.handle_webhook(
        event(harness, WebhookEventType.SLEEP_UPDATED, sleep["id"])
    )
    assert await harness.lines("sleep") == [sleep]
