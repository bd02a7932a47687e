"""The process supervisor behind ``wdp up``: health waits, crash detection, clean stop."""

from __future__ import annotations

import os
from pathlib import Path

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


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's PID 1 may never reap orphans)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` from /proc (no psutil needed)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _wait_for(predicate, timeout_s: float = 90.0) -> bool:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_supervisor_restarts_a_killed_service_and_keeps_the_others(tmp_path) -> None:
    import json
    import signal

    stack = Stack(
        StackConfig(data_dir=tmp_path, with_simulator=False, services=("loader", "scorer")),
        stop_timeout_s=10,
    )
    stack.start()
    try:
        stack.wait_healthy(90)
        loader, scorer = stack.processes["loader"].pid, stack.processes["scorer"].pid
        os.kill(loader, signal.SIGKILL)
        assert _wait_for(lambda: stack.processes["loader"].poll() is not None, 30)
        assert stack.supervise(now=0.0) == []  # exit noticed, restart scheduled (backoff 1 s)
        assert stack.supervise(now=1e9) == ["loader"]  # backoff elapsed
        assert stack.processes["loader"].pid != loader
        assert stack.processes["scorer"].pid == scorer  # the others are never touched
        assert stack.restarts == {"loader": 1}
        state = json.loads((tmp_path / "health" / "supervisor.json").read_text())
        assert state["loader"]["restarts"] == 1 and state["scorer"]["restarts"] == 0
        stack.wait_healthy(90, names=["loader"])
    finally:
        stack.stop()


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_no_orphans_when_wdp_up_is_terminated_or_killed(tmp_path, sig: str) -> None:
    import signal
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("WDP_")}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "wdp"),
            "up",
            "--data-dir",
            str(tmp_path),
            "--only",
            "scorer",
            "--env-file",
            str(tmp_path / "absent.env"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: (tmp_path / "health" / "scorer.json").exists(), 90)
        children = _children_of(proc.pid)
        assert len(children) == 2  # simulator + scorer
        proc.send_signal(getattr(signal, sig))
        proc.wait(timeout=60)
        assert _wait_for(lambda: not any(_running(c) for c in children), 30), children
    finally:
        if proc.poll() is None:
            proc.kill()
