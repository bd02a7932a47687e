"""``wdp status`` through the CLI on a local data dir the stack would have written."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.composition import (
    build_bus,
    build_job_store,
    build_secret_store,
    build_token_store,
)
from shared.contracts import SyncRequested, Topic
from shared.messaging import publish_message
from shared.settings import PlatformSettings
from wdp_cli.main import app


async def _seed(settings: PlatformSettings) -> None:
    bus = build_bus(settings)
    await bus.ensure_topology()
    now = datetime.now(UTC)
    for i in range(3):
        await publish_message(
            bus, SyncRequested(user_id=7, requested_at=now), message_id=f"sync-{i}"
        )
    [poison] = await bus.receive(Topic.SYNC_REQUESTED.value, "extractor", max_wait_s=1.0)
    await bus.dead_letter(poison, reason="ContractError", description="bad")
    await bus.close()
    secrets = build_secret_store(settings)
    tokens = await build_token_store(settings, secrets)
    await tokens.upsert_user(7, status="active")
    await tokens.upsert_user(8, status="needs_reauth", status_reason="invalid_grant")
    await tokens.close()
    jobs = build_job_store(settings)
    await jobs.record_sync(7, "sleep", at=now - timedelta(minutes=5), latest_record_at=now)
    await jobs.close()
    health = settings.data_dir / "health"
    health.mkdir(parents=True, exist_ok=True)
    (health / "loader.json").write_text(json.dumps({"service": "loader", "ts": time.time()}))
    (health / "supervisor.json").write_text(json.dumps({"loader": {"restarts": 2}}))
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "transformer.log").write_text(
        json.dumps({"ts": "t1", "level": "error", "msg": "dbt build failed"})
        + "\nnot json\n"
        + json.dumps({"ts": "t2", "level": "info", "msg": "gold updated"})
        + "\n"
    )


def test_status_reports_services_queues_and_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WDP_DATA_DIR", raising=False)
    settings = PlatformSettings(data_dir=tmp_path)
    asyncio.run(_seed(settings))
    result = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    services = {s["name"]: s for s in doc["services"]}
    assert services["loader"]["healthy"] and services["loader"]["restarts"] == 2
    assert not services["scorer"]["healthy"]
    assert services["transformer"]["last_error"] == "t1 dbt build failed"
    queue = next(q for q in doc["queues"] if q["topic"] == Topic.SYNC_REQUESTED.value)
    assert queue["active"] == 2 and queue["dead_letters"] == 1
    assert doc["needs_reauth"] == [8]
    member = next(m for m in doc["members"] if m["user_id"] == 7)
    assert member["freshness_s"]["sleep"] >= 300

    human = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert human.exit_code == 0 and "needs re-auth" in human.output
