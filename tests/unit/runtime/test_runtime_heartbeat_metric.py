"""The heartbeat file is also exported as the metric ``wdp.service.heartbeat`` (Azure alerts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shared.runtime import service
from shared.runtime.service import HEARTBEAT_METRIC, ServiceRunner, heartbeat_observations


def test_heartbeat_metric_reports_a_running_service_and_forgets_a_stopped_one(
    tmp_path: Path,
) -> None:
    runner = ServiceRunner("probe-svc", [], health_dir=tmp_path)
    seen: list[set[str]] = []

    async def scenario() -> None:
        task = asyncio.create_task(runner.run())
        while not (tmp_path / "probe-svc.json").exists():
            await asyncio.sleep(0.01)
        seen.append(
            {str(o.attributes["service"]) for o in heartbeat_observations() if o.attributes}
        )
        runner.stop.set()
        await task

    asyncio.run(scenario())
    assert HEARTBEAT_METRIC == "wdp.service.heartbeat"
    assert seen == [{"probe-svc"}]
    assert all(
        o.attributes and o.attributes["service"] != "probe-svc" for o in heartbeat_observations()
    )


def test_heartbeat_metric_skips_a_stale_heartbeat(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(service._live_heartbeats, "hung-svc", 0.0)
    assert not [
        o
        for o in heartbeat_observations()
        if o.attributes and o.attributes["service"] == "hung-svc"
    ]
