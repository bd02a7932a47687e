"""WHOOP calls per member per day in steady state, and how many members one app serves.

WHOOP's quota is per *app* (10,000 calls/day, 100/min), so it caps the members one deployment
can serve. The simulator runs in-process with a frozen clock that the benchmark advances hour
by hour for a simulated week; every webhook WHOOP would send in that hour is delivered to the
extractor's handler as it arrives (with coalescing), and reconciliation runs on its schedule.
Every request that reaches the simulator's data API is counted.

Two profiles run in the same benchmark: the shipped defaults, and the peer, the previous
defaults (reconciliation of 7 days every hour). ``users_per_app`` = 10,000 ÷ calls per member
per day; webhooks are handled as they arrive, so freshness stays within the pipeline's
seconds as long as the daily budget holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bench import BenchResult
from bench.bench_backfill import _connect
from extractor.bootstrap import bootstrap
from extractor.settings import ExtractorSettings
from shared.adapters.blob.local import LocalBlobStore
from shared.adapters.secrets.env import EnvSecretStore
from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.contracts import WebhookEventType, WebhookReceived
from shared.settings import PlatformSettings
from shared.whoop_ratelimit import RateLimits, SqliteRateLimiter
from whoop_simulator.app import create_app
from whoop_simulator.config import SimulatorConfig

SIM = "http://sim"
USERS = 5
DAYS = 7
DAILY_QUOTA = 10_000
GOAL_USERS = 1_000


async def _profile(settings: ExtractorSettings, root: Path) -> dict[str, Any]:
    events: list[dict[str, Any]] = []

    def capture(request: httpx.Request) -> httpx.Response:
        events.append(json.loads(request.content))
        return httpx.Response(200)

    cfg = SimulatorConfig(
        seed=9,
        n_users=USERS,
        history_days=30,
        future_days=DAYS + 2,
        rate_limit_per_minute=1_000_000,
        rate_limit_per_day=10_000_000,
        token_ttl_s=24 * 3600,
        webhook_url="http://receiver/webhooks/whoop",
    )
    sim = create_app(cfg, webhook_transport=httpx.MockTransport(capture))
    state = sim.state.sim
    data_calls = 0

    async def count(request: httpx.Request) -> None:
        nonlocal data_calls
        if request.url.path.startswith("/developer/"):
            data_calls += 1

    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim),
        base_url=SIM,
        timeout=60.0,
        event_hooks={"request": [count]},
    )
    key = Fernet.generate_key().decode()
    tokens = SqliteTokenStore(root / "tokens.sqlite3", SecretStr(key))
    for user_id in state.users:
        await _connect(http, tokens, cfg, user_id)
        await tokens.upsert_user(user_id, status="active")
    app = await bootstrap(
        settings,
        platform=PlatformSettings(
            data_dir=root,
            whoop_api_base_url=f"{SIM}/developer",
            whoop_oauth_base_url=f"{SIM}/oauth/oauth2",
            whoop_client_id=cfg.client_id,
        ),
        blobs=LocalBlobStore(root / "lake", "lake"),
        tokens=tokens,
        http=http,
        limiter=SqliteRateLimiter(root / "rl.sqlite3", RateLimits(1_000_000, 10_000_000)),
        secrets=EnvSecretStore(
            environ={
                "WDP_WHOOP_CLIENT_SECRET": cfg.client_secret.get_secret_value(),
                "WDP_SECRET_TOKEN_ENCRYPTION_KEY": key,
            }
        ),
    )
    app.extractor.bus = None  # delayed recovery retries are counted by reconciliation instead

    def sim_now() -> datetime:
        return datetime.fromtimestamp(state.clock.now_ms() / 1000, UTC)

    app.extractor.clock = sim_now
    # Steady state starts from a synced member: bring every watermark to "now" uncounted.
    for user_id in state.users:
        await app.extractor.reconcile_user(user_id)
    data_calls = 0
    webhooks = 0
    since_reconcile = 0.0
    for _hour in range(DAYS * 24):
        state.advance(1)
        while state.webhooks.pending:
            await asyncio.sleep(0.01)
        batch, events[:] = list(events), []
        for body in batch:
            webhooks += 1
            await app.extractor.handle_webhook(
                WebhookReceived(
                    user_id=int(body["user_id"]),
                    event_type=WebhookEventType(body["type"]),
                    record_id=str(body["id"]),
                    whoop_trace_id=str(body["trace_id"]),
                    received_at=sim_now(),
                )
            )
        since_reconcile += 3600
        if since_reconcile >= settings.reconcile_interval_s:
            since_reconcile = 0.0
            await app.extractor.reconcile_all()
    await app.close()
    await http.aclose()
    per_day = data_calls / (USERS * DAYS)
    return {
        "calls_per_user_day": round(per_day, 2),
        "users_per_app": int(DAILY_QUOTA // per_day) if per_day else 0,
        "webhooks_per_user_day": round(webhooks / (USERS * DAYS), 2),
        "coalesced_webhooks": app.extractor.coalesced,
        "reconcile_interval_s": settings.reconcile_interval_s,
        "reconcile_days": settings.reconcile_days,
    }


def run(results_dir: Path) -> list[BenchResult]:
    """The shipped defaults vs the previous hourly 7-day reconciliation, one simulated week."""
    del results_dir
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="wdp-bench-quota-") as tmp:
            shipped = await _profile(ExtractorSettings(), Path(tmp) / "shipped")
            previous = await _profile(
                ExtractorSettings(reconcile_interval_s=3600.0, reconcile_days=7),
                Path(tmp) / "previous",
            )
        return shipped, previous

    shipped, previous = asyncio.run(both())
    return [
        BenchResult(
            name="quota_users_per_app",
            metric="members one WHOOP app (10,000 calls/day) serves in steady state",
            value=float(shipped["users_per_app"]),
            unit="members",
            goal=f">= {GOAL_USERS}",
            peer="previous defaults: 7-day reconciliation every hour",
            peer_value=float(previous["users_per_app"]),
            details={"shipped": shipped, "previous": previous, "users": USERS, "days": DAYS},
        )
    ]
