"""Extractor test harness: the simulator (in-process ASGI) and real local adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from extractor.bootstrap import ExtractorApp, bootstrap
from extractor.settings import ExtractorSettings
from shared.adapters.blob.local import LocalBlobStore
from shared.adapters.secrets.env import EnvSecretStore
from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.ports.tokens import StoredTokens
from shared.settings import PlatformSettings
from shared.whoop_ratelimit import RateLimiter, RateLimits, SqliteRateLimiter
from tests.fakes import RecordingBus
from whoop_simulator.app import create_app
from whoop_simulator.config import SimulatorConfig

SIM = "http://sim"


@dataclass
class Harness:
    """A simulator, an http client bound to it, and a bootstrapped extractor."""

    sim: Any
    http: httpx.AsyncClient
    app: ExtractorApp
    tokens: SqliteTokenStore
    blobs: LocalBlobStore
    bus: RecordingBus
    requests: list[httpx.Request]
    user_id: int
    token_key: SecretStr | None = None

    @property
    def state(self) -> Any:
        return self.sim.state.sim

    async def admin(self, method: str, path: str, **kw: Any) -> Any:
        resp = await self.http.request(
            method, f"{SIM}{path}", headers={"X-Admin-Token": "wdp-local-admin-token"}, **kw
        )
        resp.raise_for_status()
        return resp.json()

    async def lines(self, resource: str) -> list[dict[str, Any]]:
        import gzip
        import json

        out = []
        async for info in self.blobs.list(f"bronze/whoop/{resource}/"):
            for line in gzip.decompress(await self.blobs.get(info.path)).splitlines():
                out.append(json.loads(line))
        return out


async def connect(
    http: httpx.AsyncClient,
    tokens: SqliteTokenStore,
    user_id: int,
    cfg: SimulatorConfig,
    *,
    base: str = SIM,
) -> StoredTokens:
    """Authorize through the simulator's real endpoints (auto-approve) and store the pair."""
    redirect = "http://app/cb"
    resp = await http.get(
        f"{base}/oauth/oauth2/auth",
        params={
            "response_type": "code",
            "client_id": cfg.client_id,
            "redirect_uri": redirect,
            "scope": "offline read:recovery read:cycles read:workout read:sleep read:profile "
            "read:body_measurement",
            "state": "abcdefgh12",
            "user_id": user_id,
            "approve": "true",
        },
    )
    code = parse_qs(urlparse(resp.headers["location"]).query)["code"][0]
    token = await http.post(
        f"{base}/oauth/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret.get_secret_value(),
        },
    )
    body = token.json()
    from datetime import UTC, timedelta

    pair = StoredTokens(
        body["access_token"],
        body.get("refresh_token"),
        datetime.now(UTC) + timedelta(seconds=body["expires_in"]),
        body["scope"],
    )
    await tokens.save_tokens(user_id, pair)
    await tokens.upsert_user(user_id, status="active")
    return pair


async def make_harness(
    tmp_path: Path,
    *,
    sim_config: SimulatorConfig | None = None,
    settings: ExtractorSettings | None = None,
    limiter: RateLimiter | None = None,
    sim_clock: Any = None,
) -> tuple[Harness, Any]:
    cfg = sim_config or SimulatorConfig(seed=11, n_users=2, history_days=40, future_days=0)
    sim = create_app(cfg, wall_clock=sim_clock)
    requests: list[httpx.Request] = []

    async def log_request(request: httpx.Request) -> None:
        requests.append(request)

    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim), base_url=SIM, event_hooks={"request": [log_request]}
    )
    platform = PlatformSettings(
        data_dir=tmp_path,
        whoop_api_base_url=f"{SIM}/developer",
        whoop_oauth_base_url=f"{SIM}/oauth/oauth2",
        whoop_client_id=cfg.client_id,
    )
    key = SecretStr(Fernet.generate_key().decode())
    secrets = EnvSecretStore(
        environ={
            "WDP_WHOOP_CLIENT_SECRET": cfg.client_secret.get_secret_value(),
            "WDP_SECRET_TOKEN_ENCRYPTION_KEY": key.get_secret_value(),
        }
    )
    tokens = SqliteTokenStore(tmp_path / "tokens.sqlite3", key)
    blobs = LocalBlobStore(tmp_path / "lake", "lake")
    bus = RecordingBus()
    user_id = sorted(sim.state.sim.users)[0]
    await connect(http, tokens, user_id, cfg)
    settings = settings or ExtractorSettings(
        backoff_base_s=0.0, backoff_cap_s=0.0, backfill_window_days=20, max_attempts=8
    )
    app = await bootstrap(
        settings,
        platform=platform,
        bus=bus,
        blobs=blobs,
        tokens=tokens,
        secrets=secrets,
        http=http,
        limiter=limiter or SqliteRateLimiter(tmp_path / "rl.sqlite3", RateLimits(10_000, 100_000)),
    )
    requests.clear()
    return Harness(sim, http, app, tokens, blobs, bus, requests, user_id, key), cfg


def visible(h: Harness, resource: str) -> dict[str, dict[str, Any]]:
    """Records the simulator serves right now for the harness user, by key."""
    now = h.state.clock.now_ms()
    out = {}
    for key, tl in h.state.index[h.user_id][resource].items():
        v = tl.at(now)
        if v is not None:
            out[key] = v.record
    return out


async def full_sync(h: Harness, job_id: str = "job1") -> Any:
    """Sync the last 60 days of all four collections."""
    from datetime import UTC, timedelta

    now = datetime.now(UTC)
    return await h.app.extractor.sync(h.user_id, now - timedelta(days=60), now, job_id=job_id)


def main_sleep(h: Harness) -> dict[str, Any]:
    """The newest non-nap sleep that has a recovery."""
    sleeps = [s for s in visible(h, "sleep").values() if not s["nap"]]
    recovered = {r["sleep_id"] for r in visible(h, "recovery").values()}
    return max((s for s in sleeps if s["id"] in recovered), key=lambda s: s["start"])
