"""``wdp sync`` publishes a SyncRequested on the local bus for a running extractor."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from shared.adapters.bus.local import LocalBus
from shared.contracts import SyncRequested, Topic, decode
from wdp_cli.commands import sync


def test_wdp_sync_queues_a_job(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        sync.app,
        ["--user", "77", "-r", "sleep", "--start", "2025-01-01", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    job_id = result.output.split("queued sync job ")[1].split()[0]

    async def read() -> list[SyncRequested]:
        bus = LocalBus(tmp_path / "bus.sqlite3")
        try:
            got = await bus.receive(Topic.SYNC_REQUESTED.value, "extractor", max_wait_s=1.0)
            return [decode(Topic.SYNC_REQUESTED, m.body, m.application_properties) for m in got]  # type: ignore[misc]
        finally:
            await bus.close()

    [request] = asyncio.run(read())
    assert request.job_id == job_id and request.user_id == 77
    assert [r.value for r in request.resources] == ["sleep"]
    assert request.start is not None and request.start.year == 2025
