"""``wdp backfill`` end to end against a real simulator process on a free port."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from extractor_harness import connect
from pydantic import SecretStr
from typer.testing import CliRunner

from shared.adapters.tokens.sqlite import SqliteTokenStore
from wdp_cli.commands import backfill
from whoop_simulator.config import SimulatorConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def simulator() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whoop_simulator",
            "--port",
            str(port),
            "--users",
            "1",
            "--seed",
            "4",
            "--days",
            "30",
            "--future-days",
            "0",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wdp_backfill_writes_bronze_and_resumes(
    simulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("WDP_SECRET_TOKEN_ENCRYPTION_KEY", key)
    monkeypatch.setenv("WDP_WHOOP_CLIENT_SECRET", "wdp-local-client-secret")
    monkeypatch.setenv("WDP_WHOOP_API_BASE_URL", f"{simulator}/developer")
    monkeypatch.setenv("WDP_WHOOP_OAUTH_BASE_URL", f"{simulator}/oauth/oauth2")
    users = httpx.get(
        f"{simulator}/admin/users", headers={"X-Admin-Token": "wdp-local-admin-token"}
    ).json()
    user_id = users[0]["user_id"]

    async def do_connect() -> None:
        async with httpx.AsyncClient(base_url=simulator) as http:
            store = SqliteTokenStore(tmp_path / "tokens.sqlite3", SecretStr(key))
            await connect(http, store, user_id, SimulatorConfig(), base=simulator)

    asyncio.run(do_connect())
    runner = CliRunner()
    since = (datetime.now(UTC) - timedelta(days=45)).date().isoformat()
    args = ["--user", str(user_id), "--since", since, "--data-dir", str(tmp_path)]
    first = runner.invoke(backfill.app, args)
    assert first.exit_code == 0, first.output
    assert "0/" in first.output  # nothing to resume on the first run
    blobs = sorted((tmp_path / "lake" / "lake" / "bronze" / "whoop" / "sleep").rglob("*.gz"))
    assert blobs
    line = json.loads(gzip.decompress(blobs[0].read_bytes()).splitlines()[0])
    assert line["user_id"] == user_id
    again = runner.invoke(backfill.app, args)
    assert again.exit_code == 0, again.output
    assert "0 pages" in again.output  # every window already done: no WHOOP data calls
    assert "--since" in runner.invoke(backfill.app, ["--help"]).output
