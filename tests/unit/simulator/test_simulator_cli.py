"""``wdp sim``: help texts and ``generate`` writing NDJSON plus ground truth."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from wdp_cli.main import app


def test_help() -> None:
    runner = CliRunner()
    for args in (["sim", "--help"], ["sim", "serve", "--help"], ["sim", "generate", "--help"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "Usage" in r.output


def test_generate_writes_records_and_truth(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        app,
        ["sim", "generate", "--out", str(tmp_path), "--users", "2", "--years", "0.2",
         "--end", "2025-03-01", "--corrupt-rate", "0.1"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    folder = tmp_path / "user_id=10101"
    cycles = [json.loads(x) for x in (folder / "cycle.ndjson").read_text().splitlines()]
    assert len(cycles) > 60 and all("id" in c for c in cycles)
    truth = json.loads((folder / "ground_truth.json").read_text())
    assert set(truth["gold"]) >= {
        "fact_daily_recovery",
        "fact_sleep",
        "fact_strain",
        "fact_workouts",
    }
    assert truth["gold"]["quarantine"]
    bad = {q["record_id"] for q in truth["gold"]["quarantine"] if q["resource"] == "cycle"}
    served_bad = {str(c["id"]) for c in cycles if c.get("score", {}).get("strain", 0) > 21}
    assert bad == served_bad
