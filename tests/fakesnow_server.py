"""Pytest plugin: one ``fakesnow`` HTTP server per test session, on a free port.

The real ``snowflake-connector-python`` (and dbt-snowflake) talk to it exactly as to Snowflake,
so the Snowflake adapters and the dbt Snowflake target run in ``make test`` without an account.
Register it with ``pytest_plugins = ["tests.fakesnow_server"]`` in the ROOT conftest (pytest
refuses ``pytest_plugins`` elsewhere), or import ``fakesnow_server`` into a directory conftest
(one server per importing directory), or call :func:`start_fakesnow` directly.

The server runs as a subprocess (``fakesnow -s -p PORT -d DIR``), not in-process, because
fakesnow patches nothing in server mode and a subprocess cannot leak DuckDB state into other
tests. Start-up is awaited with a bounded retry; the process is terminated at session end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class FakesnowServer:
    """Where the emulator listens; pass these to ``snowflake.connector.connect``."""

    host: str
    port: int
    db_dir: Path
    user: str = "fake"
    password: str = "snow"  # noqa: S105 - the emulator accepts any credentials
    account: str = "fakesnow"
    protocol: str = "http"

    def connect_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``snowflake.connector.connect``."""
        return {
            "user": self.user,
            "password": self.password,
            "account": self.account,
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol,
        }


def free_port() -> int:
    """A port the OS just handed out (never a fixed one: tests run in parallel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(host: str, port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"fakesnow exited early with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    raise TimeoutError(f"fakesnow did not listen on {host}:{port} within {timeout_s}s")


def start_fakesnow(
    db_dir: Path, *, timeout_s: float = STARTUP_TIMEOUT_S
) -> tuple[subprocess.Popen[bytes], FakesnowServer]:
    """Start ``fakesnow -s`` on a free port (retrying if the port was taken meanwhile)."""
    db_dir.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for _ in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "fakesnow", "-s", "-p", str(port), "-d", str(db_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            _wait_for_port("127.0.0.1", port, proc, timeout_s)
        except (RuntimeError, TimeoutError) as exc:
            last_error = exc
            proc.terminate()
            proc.wait(timeout=10)
            continue
        return proc, FakesnowServer(host="127.0.0.1", port=port, db_dir=db_dir)
    raise RuntimeError(f"could not start fakesnow: {last_error}")


@pytest.fixture(scope="session")
def fakesnow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakesnowServer]:
    """A running fakesnow server for the whole session (databases in a session temp dir)."""
    proc, server = start_fakesnow(tmp_path_factory.mktemp("fakesnow"))
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
