"""Fixtures for the receiver integration tests (helpers live in ``receiver_harness``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from receiver_harness import ADMIN_KEY, RX, SECRET, SIM, LateASGITransport, Rx

from receiver.entrypoints.http import create_app
from receiver.settings import ReceiverSettings
from shared.adapters.bus.local import LocalBus
from shared.adapters.secrets.env import EnvSecretStore
from shared.adapters.tokens.sqlite import SqliteTokenStore
from shared.settings import PlatformSettings
from shared.telemetry import configure_tracing
from shared.whoop_ratelimit import RateLimits, SqliteRateLimiter
from whoop_simulator.app import create_app as create_sim
from whoop_simulator.config import SimulatorConfig


@pytest.fixture
async def rx(tmp_path: Path) -> AsyncIterator[Rx]:
    # A recording tracer provider, so the receiver's server span is real and propagates.
    configure_tracing("receiver-tests", PlatformSettings(), exporter=InMemorySpanExporter())
    to_receiver = LateASGITransport()
    sim = create_sim(
        SimulatorConfig(seed=5, n_users=2, history_days=10, future_days=0),
        webhook_transport=to_receiver,
    )
    sim_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url=SIM)
    platform = PlatformSettings(
        data_dir=tmp_path,
        whoop_api_base_url=f"{SIM}/developer",
        whoop_oauth_base_url=f"{SIM}/oauth/oauth2",
    )
    key = Fernet.generate_key().decode()
    secrets = EnvSecretStore(
        environ={"WDP_WHOOP_CLIENT_SECRET": SECRET, "WDP_SECRET_TOKEN_ENCRYPTION_KEY": key}
    )
    tokens = SqliteTokenStore(tmp_path / "tokens.sqlite3", SecretStr(key))
    bus = LocalBus(tmp_path / "bus.sqlite3")
    await bus.ensure_topology()
    users = sorted(sim.state.sim.users)
    settings = ReceiverSettings(
        public_base_url=RX,
        api_keys={ADMIN_KEY: "admin", "k-a": [users[0]], "k-b": [users[1]]},
    )
    app = create_app(
        settings,
        platform=platform,
        bus=bus,
        tokens=tokens,
        secrets=secrets,
        http=sim_client,
        limiter=SqliteRateLimiter(tmp_path / "rl.sqlite3", RateLimits(10_000, 100_000)),
    )
    to_receiver.app = app
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=RX)
        try:
            yield Rx(app, client, sim, sim_client, bus, tokens, users, platform, secrets)
        finally:
            await client.aclose()
            await sim_client.aclose()
            await bus.close()
