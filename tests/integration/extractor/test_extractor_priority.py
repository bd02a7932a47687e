"""Backfill and reconciliation pages ask the shared limiter at backfill priority; webhooks not."""

from __future__ import annotations

from datetime import UTC, datetime

from extractor_harness import Harness, full_sync, main_sleep

from shared.contracts import WebhookEventType, WebhookReceived
from shared.whoop_ratelimit import Priority, current_priority


async def test_sync_pages_are_backfill_priority_and_webhooks_interactive(
    harness: Harness,
) -> None:
    seen: list[Priority] = []
    limiter = harness.app.extractor.client.limiter
    original = limiter.acquire

    async def spy() -> float:
        seen.append(current_priority())
        return await original()

    limiter.acquire = spy  # type: ignore[method-assign]
    await full_sync(harness)
    assert seen and set(seen) == {Priority.BACKFILL}

    seen.clear()
    await harness.app.extractor.handle_webhook(
        WebhookReceived(
            user_id=harness.user_id,
            event_type=WebhookEventType.SLEEP_UPDATED,
            record_id=main_sleep(harness)["id"],
            whoop_trace_id="t-priority",
            received_at=datetime.now(UTC),
        )
    )
    assert seen and set(seen) == {Priority.INTERACTIVE}

    seen.clear()
    await harness.app.extractor.reconcile_user(harness.user_id)
    assert seen and set(seen) == {Priority.BACKFILL}
