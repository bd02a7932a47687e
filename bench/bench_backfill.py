"""Backfill throughput against the simulator at WHOOP's real default limits (100/min).

Two scenarios: 1 user × 5 years and 10 users × 1 year (all users concurrently, one app-wide
limiter). The figure of merit is ``wall time ÷ quota floor``, the floor being the requests made
divided by the allowed rate (100 per 60 s): ≤ 1.05 means the limiter wastes < 5 % of the
budget; a 429 means it overran. The simulator runs in-process (ASGI) on the real wall clock
with its real fixed-window limiter, so every request counts exactly as WHOOP would count it.

``WDP_BENCH_BACKFILL_SCALE`` (default 1.0) shrinks history *and* the limit proportionally for a
quick run (e.g. 0.2 → 20/min, a fifth of the history); the results say which scale was used.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bench import BenchResult
from extractor.bootstrap import bootstrap
from extractor.settings import ExtractorSettings
from shared.adapters.blob.local import LocalBlobStore
from shared.adapters.secrets.env import EnvSecretStore
from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.ports.tokens import StoredTokens
from shared.settings import PlatformSettings
from whoop_simulator.app import create_app
from whoop_simulator.config import SimulatorConfig

SIM = "http://sim"
PER_MINUTE = 100
PAGE = 25


async def _connect(
    http: httpx.AsyncClient, tokens: SqliteTokenStore, cfg: SimulatorConfig, user_id: int
) -> None:
    redirect = "http://bench/cb"
    resp = await http.get(
        "/oauth/oauth2/auth",
        params={
            "response_type": "code",
            "client_id": cfg.client_id,
            "redirect_uri": redirect,
            "scope": "offline read:recovery read:cycles read:workout read:sleep read:profile",
            "state": "benchstate",
            "user_id": user_id,
            "approve": "true",
        },
    )
    code = parse_qs(urlparse(resp.headers["location"]).query)["code"][0]
    body = (
        await http.post(
            "/oauth/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": cfg.client_id,
                "client_secret": cfg.client_secret.get_secret_value(),
            },
        )
    ).json()
    await tokens.save_tokens(
        user_id,
        StoredTokens(
            body["access_token"],
            body.get("refresh_token"),
            datetime.now(UTC) + timedelta(seconds=body["expires_in"]),
            body["scope"],
        ),
    )


async def _scenario(name: str, users: int, days: int, per_minute: int) -> BenchResult:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    cfg = SimulatorConfig(
        seed=3,
        n_users=users,
        history_days=days,
        future_days=0,
        rate_limit_per_minute=per_minute,
        token_ttl_s=6 * 3600,
    )
    sim = create_app(cfg)
    state = sim.state.sim
    minimal_pages = sum(
        max(1, math.ceil(len(state.index[u][r]) / PAGE))
        for u in state.users
        for r in ("cycle", "sleep", "recovery", "workout")
    )
    with tempfile.TemporaryDirectory(prefix="wdp-bench-") as tmp:
        root = Path(tmp)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url=SIM, timeout=60.0)
        key = Fernet.generate_key().decode()
        tokens = SqliteTokenStore(root / "tokens.sqlite3", SecretStr(key))
        for user_id in state.users:
            await _connect(http, tokens, cfg, user_id)
        # Let the simulator's fixed minute window turn over so setup calls do not count.
        await asyncio.sleep(60 - time.time() % 60 + 0.2)
        app = await bootstrap(
            ExtractorSettings(rate_limit_per_minute=per_minute, backfill_window_days=365),
            platform=PlatformSettings(
                data_dir=root,
                whoop_api_base_url=f"{SIM}/developer",
                whoop_oauth_base_url=f"{SIM}/oauth/oauth2",
            ),
            blobs=LocalBlobStore(root / "lake", "lake"),
            tokens=tokens,
            http=http,
            secrets=EnvSecretStore(
                environ={
                    "WDP_WHOOP_CLIENT_SECRET": cfg.client_secret.get_secret_value(),
                    "WDP_SECRET_TOKEN_ENCRYPTION_KEY": key,
                }
            ),
        )
        end = datetime.now(UTC) + timedelta(days=1)
        start = end - timedelta(days=days + 2)
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(app.extractor.sync(u, start, end, job_id=f"bench-{u}") for u in state.users)
        )
        wall = time.perf_counter() - t0
        stats = app.extractor.client.stats
        await app.close()
        await http.aclose()
    rate = per_minute / 60.0
    floor = stats.requests / rate
    records = sum(r.records for r in results)
    return BenchResult(
        name=f"backfill_{name}",
        metric="wall_time / quota_floor",
        value=round(wall / floor, 4),
        unit="ratio",
        goal="<= 1.05 with zero 429s",
        details={
            "users": users,
            "days": days,
            "limit_per_minute": per_minute,
            "wall_s": round(wall, 2),
            "requests": stats.requests,
            "quota_floor_s": round(floor, 2),
            "minimal_pages": minimal_pages,
            "minimal_floor_s": round(minimal_pages / rate, 2),
            "wall_over_minimal_floor": round(wall / (minimal_pages / rate), 4),
            "http_429": stats.by_status.get(429, 0),
            "retries": stats.retries,
            "records": records,
            "note": "the first minute's budget is available at once (sliding window), so the "
            "ratio can be below 1 for short runs",
        },
    )


def run(results_dir: Path) -> list[BenchResult]:  # noqa: ARG001 - results written by caller
    """Both scenarios, sequentially (they share WHOOP's one app-wide budget)."""
    scale = float(os.environ.get("WDP_BENCH_BACKFILL_SCALE", "1.0"))
    per_minute = max(5, round(PER_MINUTE * scale))

    async def both() -> list[BenchResult]:
        return [
            await _scenario("1user_5years", 1, max(30, round(5 * 365 * scale)), per_minute),
            await _scenario("10users_1year", 10, max(30, round(365 * scale)), per_minute),
        ]

    out = asyncio.run(both())
    for result in out:
        if result.details is not None:
            result.details["scale"] = scale
    return out
