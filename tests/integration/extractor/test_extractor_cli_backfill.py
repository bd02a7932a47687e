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


@pytest.fixture(scope="module")  # one simulator process for this module
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


def test_wdp_backfill_unknown_user_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        backfill.app,
        [
            "--user",
            "123",
            "--since",
            "2025-01-01",
            "--until",
            "2025-01-02",
            "--data-dir",
            str(tmp_path),
        ],
        env={"WDP_WHOOP_CLIENT_SECRET": "s"},
    )
    assert result.exit_code == 1
    assert "no WHOOP tokens stored for user 123" in result.output


def _bronze_lines(root: Path) -> tuple[int, set[tuple[str, str]]]:
    files = sorted((root / "lake" / "lake" / "bronze").rglob("*.ndjson.gz"))
    keys = set()
    for f in files:
        resource = f.relative_to(root / "lake" / "lake" / "bronze" / "whoop").parts[0]
        for line in gzip.decompress(f.read_bytes()).splitlines():
            rec = json.loads(line)
            keys.add((resource, str(rec.get("id", rec.get("cycle_id")))))
    return len(files), keys


def test_wdp_backfill_survives_kill_minus_9(
    simulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real ``kill -9`` mid-backfill; the rerun refetches at most the page in flight."""
    key = Fernet.generate_key().decode()
    env = {
        "WDP_SECRET_TOKEN_ENCRYPTION_KEY": key,
        "WDP_WHOOP_CLIENT_SECRET": "wdp-local-client-secret",
        "WDP_WHOOP_API_BASE_URL": f"{simulator}/developer",
        "WDP_WHOOP_OAUTH_BASE_URL": f"{simulator}/oauth/oauth2",
        "WDP_EXTRACTOR_BACKFILL_WINDOW_DAYS": "4",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    admin = {"X-Admin-Token": "wdp-local-admin-token"}
    user_id = httpx.get(f"{simulator}/admin/users", headers=admin).json()[0]["user_id"]
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"

    async def do_connect(root: Path) -> None:
        async with httpx.AsyncClient(base_url=simulator) as http:
            store = SqliteTokenStore(root / "tokens.sqlite3", SecretStr(key))
            await connect(http, store, user_id, SimulatorConfig(), base=simulator)

    since = (datetime.now(UTC) - timedelta(days=32)).date().isoformat()
    for root in (clean, crashed):
        root.mkdir()
        asyncio.run(do_connect(root))
    reference = CliRunner().invoke(
        backfill.app, ["--user", str(user_id), "--since", since, "--data-dir", str(clean)]
    )
    assert reference.exit_code == 0, reference.output
    clean_files, clean_keys = _bronze_lines(clean)
    assert clean_files > 12

    httpx.put(f"{simulator}/admin/faults", json={"latency_ms": 60}, headers=admin)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from wdp_cli.main import app; app()",
            "backfill",
            "--user",
            str(user_id),
            "--since",
            since,
            "--data-dir",
            str(crashed),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while _bronze_lines(crashed)[0] < 6:
            assert proc.poll() is None, "backfill finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no cleanup, no checkpoint flush
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        httpx.delete(f"{simulator}/admin/faults", headers=admin)
    killed_files, _ = _bronze_lines(crashed)
    assert killed_files < clean_files
    rerun = CliRunner().invoke(
        backfill.app, ["--user", str(user_id), "--since", since, "--data-dir", str(crashed)]
    )
    assert rerun.exit_code == 0, rerun.output
    files, keys = _bronze_lines(crashed)
    assert keys == clean_keys
    assert files <= clean_files + 1  # only the page in flight at the kill can be written twice
