"""Time from process start to healthy-and-consuming, per bus-driven service.

Each service is started as its own process by the ``wdp up`` supervisor (``wdp_cli.stack``)
in a temp data dir, and the clock stops when its heartbeat says it is consuming. The warm-up
(dbt parse, model load, a rescore after a crash) runs in the background since the heartbeat
no longer waits for it. The peer, measured in the same run, is a bare interpreter importing
only ``shared`` (the floor every service pays): the gap is the service's own start-up cost.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import BenchResult
from wdp_cli.stack import Stack, StackConfig

SERVICES = ("extractor", "loader", "transformer", "scorer")
ROUNDS = 3
GOAL_S = 5.0


def _time_to_healthy(service: str, data_dir: Path) -> float:
    stack = Stack(StackConfig(data_dir=data_dir, with_simulator=False, services=(service,)))
    started = time.monotonic()
    stack.start()
    try:
        stack.wait_healthy(180)
        return time.monotonic() - started
    finally:
        stack.stop()


def _floor() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import shared.runtime"], check=True)
    return time.monotonic() - started


def run(results_dir: Path) -> list[BenchResult]:
    """Best of ``ROUNDS`` per service (start-up is not a throughput figure)."""
    del results_dir
    results = []
    with tempfile.TemporaryDirectory(prefix="wdp-bench-startup-") as tmp:
        floor = min(_floor() for _ in range(ROUNDS))
        for service in SERVICES:
            times = [_time_to_healthy(service, Path(tmp) / service) for _ in range(ROUNDS)]
            results.append(
                BenchResult(
                    name=f"startup_{service}",
                    metric="process start → healthy and consuming (best of 3)",
                    value=round(min(times), 3),
                    unit="s",
                    goal=f"<= {GOAL_S} s",
                    peer="bare interpreter importing shared.runtime",
                    peer_value=round(floor, 3),
                    details={"all_s": [round(t, 3) for t in times]},
                )
            )
    return results
