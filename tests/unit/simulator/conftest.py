"""Fixtures for the simulator tests: a small deterministic world and an OAuth helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from whoop_simulator.app import create_app
from whoop_simulator.config import SimulatorConfig

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
ALL_SCOPES = (
    "offline read:recovery read:cycles read:workout read:sleep read:profile read:body_measurement"
)
REDIRECT = "http://127.0.0.1:9/callback"
SECRET = "wdp-local-client-secret"
ADMIN = {"X-Admin-Token": "wdp-local-admin-token"}


class FakeWallClock:
    """Injectable epoch-seconds clock for token expiry and rate windows."""

    def __init__(self, t: float = 1_741_780_800.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_config(**overrides: Any) -> SimulatorConfig:
    base: dict[str, Any] = {"now": NOW, "n_users": 2, "history_days": 40, "future_days": 5}
    base.update(overrides)
    return SimulatorConfig(**base)


def authorize(client: TestClient, user_id: int = 10100, scope: str = ALL_SCOPES) -> dict[str, Any]:
    """Run the non-interactive authorization-code flow and return the token response."""
    r = client.get(
        "/oauth/oauth2/auth",
        params={
            "response_type": "code",
            "client_id": "wdp-local-client",
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "state-1234",
            "user_id": str(user_id),
            "approve": "true",
        },
        follow_redirects=False,
    )
    assert r.status_code == 302, r.text
    q = parse_qs(urlparse(r.headers["location"]).query)
    assert q["state"] == ["state-1234"]
    t = client.post(
        "/oauth/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": q["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": "wdp-local-client",
            "client_secret": SECRET,
        },
    )
    assert t.status_code == 200, t.text
    return dict(t.json())


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.fixture(scope="module")
def shared_client() -> Iterator[TestClient]:
    """A read-only world shared by a module's tests (no lifespan: no webhooks)."""
    yield TestClient(create_app(make_config(rate_limit_per_minute=100_000)))


@pytest.fixture
def client_factory() -> Iterator[Callable[..., TestClient]]:
    """Build fresh apps (with lifespan, so webhooks run) and close them afterwards."""
    opened: list[TestClient] = []

    def factory(**kwargs: Any) -> TestClient:
        app_kwargs = {k: kwargs.pop(k) for k in ("wall_clock", "webhook_transport") if k in kwargs}
        c = TestClient(create_app(make_config(**kwargs), **app_kwargs))
        c.__enter__()
        opened.append(c)
        return c

    yield factory
    for c in opened:
        c.__exit__(None, None, None)
