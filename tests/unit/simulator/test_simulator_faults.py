"""Fault injection and the admin API: 5xx, latency, timeouts, truncation, corruption."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from conftest import ADMIN, authorize, bearer
from fastapi.testclient import TestClient

from whoop_simulator import ground_truth
from whoop_simulator.corruption import is_corrupted

CYCLES = "/developer/v2/cycle"


def test_admin_needs_token(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    assert c.get("/admin/faults").status_code == 401
    assert c.get("/admin/faults", headers={"X-Admin-Token": "wrong"}).status_code == 401
    assert c.get("/admin/faults", headers=ADMIN).json()["error_rate"] == 0.0
    assert c.put("/admin/faults", json={"nonsense": 1}, headers=ADMIN).status_code == 400
    assert c.put("/admin/faults", json={"error_rate": 2}, headers=ADMIN).status_code == 400


def test_error_rate_gives_5xx_then_reset(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    h = bearer(authorize(c))
    c.put("/admin/faults", json={"error_rate": 1.0, "error_status": 502}, headers=ADMIN)
    r = c.get(CYCLES, headers=h)
    assert r.status_code == 502 and "X-RateLimit-Remaining" in r.headers
    c.delete("/admin/faults", headers=ADMIN)
    assert c.get(CYCLES, headers=h).status_code == 200


def test_partial_error_rate_is_partial(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory(rate_limit_per_minute=1000)
    h = bearer(authorize(c))
    c.put("/admin/faults", json={"error_rate": 0.5}, headers=ADMIN)
    codes = [c.get(CYCLES, headers=h).status_code for _ in range(60)]
    assert 10 < codes.count(503) < 50 and 10 < codes.count(200) < 50


def test_latency_and_timeout(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    h = bearer(authorize(c))
    c.put("/admin/faults", json={"latency_ms": 150}, headers=ADMIN)
    t0 = time.monotonic()
    assert c.get(CYCLES, headers=h).status_code == 200
    assert time.monotonic() - t0 >= 0.15
    c.put(
        "/admin/faults",
        json={"latency_ms": 0, "timeout_rate": 1.0, "timeout_s": 0.2},
        headers=ADMIN,
    )
    t0 = time.monotonic()
    assert c.get(CYCLES, headers=h).status_code == 504
    assert time.monotonic() - t0 >= 0.2


def test_truncated_body_is_invalid_json(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    h = bearer(authorize(c))
    c.put("/admin/faults", json={"truncate_rate": 1.0}, headers=ADMIN)
    r = c.get(CYCLES, headers=h)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_corrupt_records_match_ground_truth_quarantine(
    client_factory: Callable[..., TestClient],
) -> None:
    c = client_factory()
    h = bearer(authorize(c))
    c.put("/admin/faults", json={"corrupt_rate": 0.2}, headers=ADMIN)
    served = c.get("/developer/v2/recovery", headers=h, params={"limit": 25}).json()["records"]
    bad = [r for r in served if r.get("score", {}).get("recovery_score", 0) > 100]
    assert bad, "expected some corrupted recoveries at 20%"
    truth = c.get("/admin/ground-truth/10100", headers=ADMIN).json()
    quarantine = {(q["resource"], q["record_id"]) for q in truth["gold"]["quarantine"]}
    for r in bad:
        assert ("recovery", str(r["cycle_id"])) in quarantine
    gold_ids = {row["cycle_id"] for row in truth["gold"]["fact_daily_recovery"]}
    assert not gold_ids & {r["cycle_id"] for r in bad}
    assert all(0 <= row["recovery_score"] <= 100 for row in truth["gold"]["fact_daily_recovery"])
    state = c.app.state.sim  # type: ignore[attr-defined]
    assert is_corrupted(state.config.seed, "recovery", str(bad[0]["cycle_id"]), 0.2)
    user = state.users[10100]
    clean = ground_truth.expected_gold(user, as_of_ms=state.clock.now_ms())
    assert clean["quarantine"] == []
    assert len(clean["fact_daily_recovery"]) > len(truth["gold"]["fact_daily_recovery"])
