"""Webhooks: WHOOP signing, retries, duplicates, drops, revoke, time advance, re-score/delete."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from conftest import ADMIN, authorize, bearer
from fastapi.testclient import TestClient

from shared.whoop_signature import verify
from whoop_simulator import schemas

SECRET = "wdp-local-client-secret"
FAST = [0.01, 0.01, 0.01, 0.01, 0.01]


class Receiver:
    """An httpx MockTransport that records deliveries and can fail the first N."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls: list[httpx.Request] = []
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.calls.append(request)
            n = len(self.calls)
        return httpx.Response(500 if n <= self.fail_first else 204)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.calls]


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def _world(client_factory: Callable[..., TestClient], rx: Receiver, **kw: Any) -> TestClient:
    c = client_factory(
        webhook_transport=rx.transport,
        webhook_url="https://receiver.test/whoop",
        webhook_retry_schedule_s=FAST,
        **kw,
    )
    authorize(c)
    return c


def _a_sleep(c: TestClient) -> dict[str, Any]:
    users = c.get("/admin/users", headers=ADMIN).json()
    assert users[0]["authorized"]
    tok = bearer(authorize(c))
    sleeps = c.get("/developer/v2/activity/sleep", headers=tok, params={"limit": 25}).json()
    return next(s for s in sleeps["records"] if not s["nap"] and s["score_state"] == "SCORED")


def test_rescore_fires_signed_recovery_event(client_factory: Callable[..., TestClient]) -> None:
    rx = Receiver()
    c = _world(client_factory, rx)
    sleep = _a_sleep(c)
    r = c.post(f"/admin/records/recovery/10100/{sleep['cycle_id']}/rescore", headers=ADMIN)
    assert r.status_code == 200
    wait_for(lambda: len(rx.calls) == 1)
    req = rx.calls[0]
    body = req.content
    verify(
        SECRET,
        req.headers["X-WHOOP-Signature"],
        req.headers["X-WHOOP-Signature-Timestamp"],
        body,
        now_s=time.time(),
        max_age_s=3600,
        max_future_s=60,
    )
    event = schemas.WebhookEvent.model_validate_json(body)
    assert event.type == "recovery.updated" and event.id == sleep["id"]  # the SLEEP uuid
    assert b" " not in body  # compact JSON as WHOOP sends it
    tok = bearer(authorize(c))
    rec = c.get(f"/developer/v2/cycle/{sleep['cycle_id']}/recovery", headers=tok).json()
    assert rec["updated_at"] == r.json()["updated_at"]


def test_retries_until_success_then_logs(client_factory: Callable[..., TestClient]) -> None:
    rx = Receiver(fail_first=3)
    c = _world(client_factory, rx)
    sleep = _a_sleep(c)
    c.post(f"/admin/records/sleep/10100/{sleep['id']}/rescore", headers=ADMIN)
    wait_for(lambda: len(rx.calls) == 4)
    traces = {e["trace_id"] for e in rx.events()}
    assert len(traces) == 1
    timestamps = [r.headers["X-WHOOP-Signature-Timestamp"] for r in rx.calls]
    assert all(t.isdigit() and len(t) == 13 for t in timestamps)
    log = c.get("/admin/webhooks/deliveries", headers=ADMIN).json()["deliveries"]
    assert [d["outcome"] for d in log] == ["failed", "failed", "failed", "delivered"]


def test_gives_up_after_five_retries(client_factory: Callable[..., TestClient]) -> None:
    rx = Receiver(fail_first=100)
    c = _world(client_factory, rx)
    sleep = _a_sleep(c)
    c.post(f"/admin/records/sleep/10100/{sleep['id']}/rescore", headers=ADMIN)
    wait_for(lambda: c.get("/admin/webhooks/deliveries", headers=ADMIN).json()["pending"] == 0
             and len(rx.calls) == 6)  # fmt: skip
    log = c.get("/admin/webhooks/deliveries", headers=ADMIN).json()["deliveries"]
    assert len(rx.calls) == 6 and log[-1]["outcome"] == "gave_up"


def test_duplicates_share_trace_id_and_drops_never_arrive(
    client_factory: Callable[..., TestClient],
) -> None:
    rx = Receiver()
    c = _world(client_factory, rx)
    sleep = _a_sleep(c)
    c.put("/admin/faults", json={"webhook_duplicate_rate": 1.0}, headers=ADMIN)
    c.post(f"/admin/records/sleep/10100/{sleep['id']}/rescore", headers=ADMIN)
    wait_for(lambda: len(rx.calls) == 2)
    a, b = rx.events()
    assert a == b
    c.put(
        "/admin/faults",
        json={"webhook_duplicate_rate": 0.0, "webhook_drop_rate": 1.0},
        headers=ADMIN,
    )
    c.post(f"/admin/records/sleep/10100/{sleep['id']}/rescore", headers=ADMIN)
    time.sleep(0.1)
    assert len(rx.calls) == 2
    log = c.get("/admin/webhooks/deliveries", headers=ADMIN).json()["deliveries"]
    assert log[-1]["outcome"] == "dropped"


def test_delete_sleep_fires_sleep_and_recovery_deleted(
    client_factory: Callable[..., TestClient],
) -> None:
    rx = Receiver()
    c = _world(client_factory, rx)
    sleep = _a_sleep(c)
    r = c.delete(f"/admin/records/sleep/10100/{sleep['id']}", headers=ADMIN)
    assert r.json()["webhooks"] == ["sleep.deleted", "recovery.deleted"]
    wait_for(lambda: len(rx.calls) == 2)
    assert {(e["type"], e["id"]) for e in rx.events()} == {
        ("sleep.deleted", sleep["id"]),
        ("recovery.deleted", sleep["id"]),
    }
    tok = bearer(authorize(c))
    assert c.get(f"/developer/v2/activity/sleep/{sleep['id']}", headers=tok).status_code == 404
    assert (
        c.get(f"/developer/v2/cycle/{sleep['cycle_id']}/recovery", headers=tok).status_code == 404
    )
    walk = c.get("/developer/v2/activity/sleep", headers=tok, params={"limit": 25}).json()
    assert sleep["id"] not in {s["id"] for s in walk["records"]}


def test_advancing_time_creates_records_and_fires_events(
    client_factory: Callable[..., TestClient],
) -> None:
    rx = Receiver()
    c = _world(client_factory, rx)
    tok = bearer(authorize(c))
    before = c.get("/developer/v2/activity/sleep", headers=tok, params={"limit": 25}).json()
    r = c.post("/admin/time/advance", json={"days": 1}, headers=ADMIN).json()
    assert r["webhooks_fired"] > 0
    wait_for(lambda: len(rx.calls) >= r["webhooks_fired"])
    types = {e["type"] for e in rx.events()}
    assert "sleep.updated" in types and "recovery.updated" in types
    after = c.get("/developer/v2/activity/sleep", headers=tok, params={"limit": 25}).json()
    assert after["records"][0]["id"] != before["records"][0]["id"]
    assert {e["user_id"] for e in rx.events()} == {10100}  # 10101 never authorized


def test_revoked_user_gets_no_webhooks(client_factory: Callable[..., TestClient]) -> None:
    rx = Receiver()
    c = _world(client_factory, rx)
    sleep = _a_sleep(c)
    tok = bearer(authorize(c))
    assert c.delete("/developer/v2/user/access", headers=tok).status_code == 204
    c.post(f"/admin/records/sleep/10100/{sleep['id']}/rescore", headers=ADMIN)
    c.post("/admin/time/advance", json={"days": 1}, headers=ADMIN)
    time.sleep(0.1)
    assert rx.calls == []


def test_live_mode_clock_runs(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory(mode="live", speed=3600.0)
    t0 = c.get("/admin/time", headers=ADMIN).json()["now"]
    time.sleep(0.05)
    t1 = c.get("/admin/time", headers=ADMIN).json()["now"]
    assert t1 > t0
