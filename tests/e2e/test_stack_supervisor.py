"""The process supervisor behind ``wdp up``: health waits, crash detection, clean stop."""

from __future__ import annotations

import os

import httpx
import pytest

from wdp_cli.stack import Stack, StackConfig, StackError

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stack_starts_probes_and_stops_every_process(tmp_path) -> None:
    stack = Stack(StackConfig(data_dir=tmp_path, services=("scorer",)), stop_timeout_s=10)
    stack.start()
    try:
        stack.wait_healthy(60)
        assert httpx.get(f"{stack.simulator_url}/healthz", timeout=5).status_code == 200
        assert (tmp_path / "health" / "scorer.json").exists()
        pids = [p.pid for p in stack.processes.values()]
    finally:
        codes = stack.stop()
    assert set(codes) == {"whoop_simulator", "scorer"}
    assert codes["scorer"] == 0  # SIGTERM → graceful shutdown, heartbeat removed
    assert not (tmp_path / "health" / "scorer.json").exists()
    assert not any(_alive(pid) for pid in pids)
    assert (tmp_path / "logs" / "scorer.log").read_text().count("service stopped") == 1


def test_a_process_that_dies_fails_fast_with_its_log(tmp_path) -> None:
    # The Azure profile without a Service Bus namespace is refused at start-up.
    config = StackConfig(
        data_dir=tmp_path,
        with_simulator=False,
        services=("scorer",),
        env={"WDP_PROFILE": "azure"},
    )
    stack = Stack(config, stop_timeout_s=5)
    stack.start()
    try:
        with pytest.raises(StackError) as raised:
            stack.wait_healthy(60)
    finally:
        stack.stop()
    assert raised.value.service == "scorer"
    assert "exited with code" in raised.value.reason
    assert "WDP_SERVICEBUS" in raised.value.log_tail
