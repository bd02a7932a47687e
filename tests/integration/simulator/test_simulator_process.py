"""The real ``python -m whoop_simulator`` process on a free port, with a real webhook receiver."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from shared.whoop_signature import verify

SECRET = "process-test-secret"
ADMIN = {"X-Admin-Token": "process-admin"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Rx(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    _Rx.received = []
    server = HTTPServer(("127.0.0.1", 0), _Rx)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/whoop/webhook", _Rx.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def simulator() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "whoop_simulator", "--host", "127.0.0.1", "--port", str(port),
         "--users", "2", "--seed", "5", "--days", "20", "--now", "2025-03-12T12:00:00Z",
         "--client-secret", SECRET, "--admin-token", "process-admin", "--auto-approve",
         "--retry-schedule", "0.05,0.05,0.05,0.05,0.05", "--log-level", "WARNING"],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        else:
            raise AssertionError("simulator did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_oauth_data_and_signed_webhook_over_real_http(
    simulator: str, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    with httpx.Client(base_url=simulator, timeout=10) as c:
        assert c.put("/admin/webhook", json={"url": url}, headers=ADMIN).status_code == 200
        r = c.get(
            "/oauth/oauth2/auth",
            params={"response_type": "code", "client_id": "wdp-local-client",
                    "redirect_uri": "http://127.0.0.1/cb",
                    "scope": "offline read:sleep read:recovery",
                    "state": "0123456789", "user_id": "10100"},
        )  # fmt: skip
        assert r.status_code == 302
        code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
        tok = c.post(
            "/oauth/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1/cb",
                  "client_id": "wdp-local-client", "client_secret": SECRET},
        ).json()  # fmt: skip
        h = {"Authorization": f"Bearer {tok['access_token']}"}
        page = c.get("/developer/v2/activity/sleep", headers=h, params={"limit": 5})
        assert page.status_code == 200 and page.headers["X-RateLimit-Limit"].startswith("100, ")
        sleep = next(s for s in page.json()["records"] if not s["nap"])
        c.post(f"/admin/records/sleep/10100/{sleep['id']}/rescore", headers=ADMIN)
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert received, "no webhook arrived"
    headers, body = received[0]
    verify(SECRET, headers["X-WHOOP-Signature"], headers["X-WHOOP-Signature-Timestamp"], body,
           now_s=time.time(), max_age_s=3600, max_future_s=60)  # fmt: skip
    assert json.loads(body)["id"] == sleep["id"]
