"""Root test fixtures shared by every area: the Azurite blob emulator.

Azurite is an npm package (``make tools`` installs it under ``.tools/``); no Docker. One
instance per test session (per xdist worker) on a free port, in-memory, stopped at the end.
Without the binary the dependent tests are skipped with a clear message, except in CI
(``CI`` set), where a missing emulator is a broken build and must fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

# One fakesnow server per session for every directory that needs Snowflake SQL.
pytest_plugins = ["tests.fakesnow_server"]

REPO_ROOT = Path(__file__).resolve().parents[1]
AZURITE_BIN = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
AZURITE_ACCOUNT = "devstoreaccount1"
# The well-known, public development key every Azurite install uses (not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_START_TIMEOUT_S = 30.0
_START_ATTEMPTS = 3


@dataclass(frozen=True)
class Azurite:
    """A running Azurite blob endpoint."""

    host: str
    port: int

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.blob_endpoint};"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> bool:
    """Bounded wait until Azurite answers HTTP (any status) or the process dies."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    url = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}?comp=list"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            httpx.get(url, timeout=1.0)
            return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Start ``azurite-blob`` on a free port for the session; yields its endpoints."""
    if not AZURITE_BIN.exists():
        message = f"Azurite is not installed at {AZURITE_BIN}; run `make tools`"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so a missing emulator fails the build)")
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("azurite")
    last_error = ""
    for _ in range(_START_ATTEMPTS):  # a free port can be taken between probe and bind
        port = _free_port()
        log_path = workdir / f"azurite-{port}.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [
                    str(AZURITE_BIN),
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    str(port),
                    "--inMemoryPersistence",
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )
        if _wait_ready(proc, port):
            try:
                yield Azurite("127.0.0.1", port)
            finally:
                _stop(proc)
            return
        _stop(proc)
        last_error = log_path.read_text(errors="replace")[-2000:]
    pytest.fail(f"Azurite did not start after {_START_ATTEMPTS} attempts:\n{last_error}")
