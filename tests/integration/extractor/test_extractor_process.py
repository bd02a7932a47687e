"""``python -m extractor`` starts, reports health, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_extractor_process_health_and_graceful_stop(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "WDP_DATA_DIR": str(tmp_path),
        "WDP_WHOOP_CLIENT_SECRET": "s",
        "WDP_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    health = tmp_path / "health" / "extractor.json"
    try:
        deadline = time.monotonic() + 30
        while not health.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.1)
        state = json.loads(health.read_text())
        assert set(state["consumers"]) == {
            "whoop.webhook-received",
            "whoop.sync-requested",
            "whoop.user-connected",
            "whoop.user-disconnected",
        }
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not health.exists()  # a clean exit removes the heartbeat
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
