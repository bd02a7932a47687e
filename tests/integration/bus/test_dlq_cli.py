"""``wdp dlq list | show | replay`` through typer's CliRunner against a real LocalBus."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.adapters.bus.local import LocalBus
from shared.contracts import Topic
from shared.ports.bus import OutgoingMessage
from wdp_cli.main import app

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _seed(data_dir: Path) -> None:
    """Two dead letters on the loader subscription, one on the scorer's, one live message."""

    async def run() -> None:
        bus = LocalBus(data_dir / "bus.sqlite3", lock_duration_s=5)
        await bus.publish(
            Topic.BLOB_EVENTS.value,
            [
                OutgoingMessage(
                    body=b'{"n": 1}',
                    message_id="blob-1",
                    application_properties={"traceparent": TRACEPARENT, "schema_version": 1},
                ),
                OutgoingMessage(body=b"not json", message_id="blob-2"),
                OutgoingMessage(body=b'{"n": 3}', message_id="blob-live"),
            ],
        )
        await bus.publish(
            Topic.GOLD_UPDATED.value, [OutgoingMessage(body=b"{}", message_id="gold-1")]
        )
        for _ in range(2):
            (msg,) = await bus.receive(Topic.BLOB_EVENTS.value, "loader", max_wait_s=1)
            await bus.dead_letter(msg, reason="ContractError", description=f"bad {msg.message_id}")
        (msg,) = await bus.receive(Topic.GOLD_UPDATED.value, "scorer", max_wait_s=1)
        await bus.dead_letter(msg, reason="TerminalError", description="dbt said no")
        await bus.close()

    asyncio.run(run())


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WDP_PROFILE", "local")
    monkeypatch.setenv("WDP_DATA_DIR", str(tmp_path))
    _seed(tmp_path)
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["dlq", *args])
    return result.exit_code, result.output


def test_dlq_list_shows_every_declared_subscription(data_dir: Path) -> None:
    code, out = _invoke("list", "--json")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    assert sorted((r["topic"], r["message_id"], r["reason"]) for r in rows) == [
        ("storage.blob-events", "blob-1", "ContractError"),
        ("storage.blob-events", "blob-2", "ContractError"),
        ("warehouse.gold-updated", "gold-1", "TerminalError"),
    ]
    code, out = _invoke("list", "--topic", "warehouse.gold-updated", "--json")
    assert code == 0 and [json.loads(x)["message_id"] for x in out.splitlines()] == ["gold-1"]
    code, out = _invoke("list")
    assert code == 0 and "blob-1" in out and "3 dead letter(s)" in out


def test_dlq_list_refuses_unknown_filter(data_dir: Path) -> None:
    code, out = _invoke("list", "--topic", "no.such-topic")
    assert code == 2
    assert "no declared subscription" in out


def test_dlq_show_prints_reason_properties_and_body(data_dir: Path) -> None:
    code, out = _invoke("show", "blob-1")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["description"] == "bad blob-1"
    assert shown["application_properties"]["traceparent"] == TRACEPARENT
    assert shown["body"] == {"n": 1}
    code, out = _invoke("show", "blob-2")
    assert json.loads(out)["body"] == "not json"
    code, out = _invoke("show", "missing")
    assert code == 1


def test_dlq_replay_by_id_keeps_properties_and_trace(data_dir: Path) -> None:
    code, out = _invoke("replay")
    assert code == 2  # neither --id nor --all
    code, out = _invoke("replay", "--id", "blob-1", "--topic", "storage.blob-events")
    assert code == 0, out
    assert "replayed 1 dead letter(s) in total" in out

    async def check() -> None:
        bus = LocalBus(data_dir / "bus.sqlite3", lock_duration_s=5)
        got = await bus.receive(Topic.BLOB_EVENTS.value, "loader", max_messages=5, max_wait_s=1)
        by_id = {m.message_id: m for m in got}
        assert set(by_id) == {"blob-live", "blob-1"}
        assert by_id["blob-1"].application_properties["traceparent"] == TRACEPARENT
        assert by_id["blob-1"].body == b'{"n": 1}'
        remaining = await bus.list_dead_letters(Topic.BLOB_EVENTS.value, "loader")
        assert [d.message_id for d in remaining] == ["blob-2"]
        await bus.close()

    asyncio.run(check())
    code, out = _invoke("replay", "--id", "nope")
    assert code == 1


def test_dlq_replay_all(data_dir: Path) -> None:
    code, out = _invoke("replay", "--all")
    assert code == 0, out
    assert "replayed 3 dead letter(s) in total" in out
    code, out = _invoke("list", "--json")
    assert out.strip() == ""


def test_dlq_help_texts() -> None:
    for args in (["--help"], ["list", "--help"], ["show", "--help"], ["replay", "--help"]):
        code, out = _invoke(*args)
        assert code == 0 and "Usage" in out
