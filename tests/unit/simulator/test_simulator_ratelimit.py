"""Rate limits per app: WHOOP's headers, 429, window reset."""

from __future__ import annotations

from collections.abc import Callable

from conftest import FakeWallClock, authorize, bearer
from fastapi.testclient import TestClient

from whoop_simulator.ratelimit import RateLimiter


def test_headers_and_429(client_factory: Callable[..., TestClient]) -> None:
    clock = FakeWallClock(1_000_040.0)
    c = client_factory(wall_clock=clock, rate_limit_per_minute=3, rate_limit_per_day=100)
    h = bearer(authorize(c))
    first = c.get("/developer/v2/cycle", headers=h)
    assert first.headers["X-RateLimit-Limit"] == "3, 3;window=60, 100;window=86400"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    assert first.headers["X-RateLimit-Reset"] == "40"
    c.get("/developer/v2/cycle", headers=h)
    c.get("/developer/v2/cycle", headers=h)
    limited = c.get("/developer/v2/cycle", headers=h)
    assert limited.status_code == 429 and limited.headers["X-RateLimit-Remaining"] == "0"
    # A second user of the same app shares the app's budget.
    other = bearer(authorize(c, user_id=10101))
    assert c.get("/developer/v2/cycle", headers=other).status_code == 429
    clock.t += 40
    assert c.get("/developer/v2/cycle", headers=h).status_code == 200


def test_daily_window_wins_when_closer() -> None:
    clock = FakeWallClock(0.0)
    rl = RateLimiter(100, 2, clock=clock)
    d = rl.hit("app")
    assert d.headers["X-RateLimit-Limit"] == "2, 100;window=60, 2;window=86400"
    assert rl.hit("app").allowed and not rl.hit("app").allowed
    clock.t = 86_400.0
    assert rl.hit("app").allowed
