"""Headless-Chromium screenshot of the overview page (skipped where Chromium is absent).

CI must not depend on a browser, so this only runs where ``chromium`` is installed. It serves
the app with uvicorn on a free port, injects the admin key with a tiny ASGI wrapper (Chromium's
command line cannot set headers), and checks the PNG is a real, non-blank render. The PNG stays
under pytest's tmp dir for a human to look at (``--basetemp`` to choose where).
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from conftest import ADMIN_KEY, GoldWorld, dashboard_settings

from dashboard.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _WithKey:
    """ASGI wrapper adding ``X-API-Key`` to every HTTP request."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = dict(scope, headers=[*scope["headers"], (b"x-api-key", self.key)])
        await self.app(scope, receive, send)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_overview_screenshot_renders(world: GoldWorld, tmp_path: Path) -> None:
    app = create_app(dashboard_settings(world.users), warehouse=world.warehouse)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(_WithKey(app, ADMIN_KEY), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        url = f"http://127.0.0.1:{port}/users/{world.users[0].user_id}"
        assert httpx.get(url, timeout=10).status_code == 200
        out = tmp_path / "overview.png"
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1200,1000",
                f"--screenshot={out}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        data = out.read_bytes()
        assert _png_size(data) == (1200, 1000)
        # A blank or error page compresses to a few KB; cards + an SVG chart do not.
        assert len(data) > 40_000, len(data)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
