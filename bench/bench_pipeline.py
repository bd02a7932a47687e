"""Webhook → prediction latency through the whole local stack, and re-score / delete to gold.

Runs ``wdp demo``'s flow (real processes: simulator, receiver, extractor, loader,
transformer, scorer) in a temporary data dir and reports p50/p95 of 20 webhook → prediction
latencies and the demo's wall time; then, on the same running stack with the members'
history loaded, the time from a WHOOP re-score of a recovery until gold shows the new score
and the prediction of that day was rewritten, and from a workout delete until it is gone from
gold (goals ≤ 5 s to gold).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench import BenchResult
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from wdp_cli.commands.demo import DemoOptions, DemoResult, SimulatorAdmin, run_demo

WEBHOOKS = 20


def run(results_dir: Path) -> list[BenchResult]:
    """One demo run; three results (p50, p95, wall time)."""
    del results_dir  # the runner writes the results
    with tempfile.TemporaryDirectory(prefix="wdp-bench-pipeline-") as tmp:
        result = run_demo(DemoOptions(data_dir=Path(tmp) / "data", webhooks=WEBHOOKS, keep=True))
        try:
            changes = _rescore_and_delete(result)
        finally:
            if result.stack is not None:
                result.stack.stop()
    p50 = result.percentile(50)
    p95 = result.percentile(95)
    if p50 is None or p95 is None:
        raise RuntimeError("no webhook reached a prediction; see the demo logs")
    details: dict[str, object] = {
        "webhooks": WEBHOOKS,
        "observed": len(result.latencies()),
        "hops_ms": result.hops_ms,
        "phases_s": result.phases,
        "gold_matches_truth": result.gold_matches_truth,
    }
    return [
        BenchResult(
            "pipeline_rescore_to_gold",
            "WHOOP re-score of a recovery → new score in gold",
            changes["rescore_to_gold_s"],
            "s",
            "≤ 5 s",
            peer="webhook → prediction p95, same run",
            peer_value=p95,
            details=changes,
        ),
        BenchResult(
            "pipeline_delete_to_gold",
            "WHOOP delete of a workout → gone from gold",
            changes["delete_to_gold_s"],
            "s",
            "≤ 5 s",
            peer="webhook → prediction p95, same run",
            peer_value=p95,
            details=changes,
        ),
        BenchResult(
            "pipeline_webhook_to_prediction_p50",
            "latency p50",
            p50,
            "s",
            "≤ 5 s (p95)",
            details=details,
        ),
        BenchResult(
            "pipeline_webhook_to_prediction_p95", "latency p95", p95, "s", "≤ 5 s", details=details
        ),
        BenchResult(
            "pipeline_demo_wall_time",
            "wall time",
            result.wall_time_s,
            "s",
            "< 600 s",
            details=details,
        ),
    ]


def _poll(check: Any, timeout_s: float = 120.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if check():
            return round(time.perf_counter() - started, 3)
        time.sleep(0.05)
    raise RuntimeError("change did not reach gold in time")


def _rescore_and_delete(result: DemoResult) -> dict[str, Any]:
    """Re-score the newest recovery and delete a workout on the live stack; time both."""
    stack = result.stack
    assert stack is not None
    warehouse = DuckDBWarehouse(stack.data_dir / "warehouse.duckdb")
    admin = SimulatorAdmin(stack.simulator_url, stack.admin_token)
    uid = result.user_id
    try:
        row = warehouse.query(
            "select sleep_id, cycle_id, recovery_score, date_key from gold.fact_daily_recovery "
            f"where user_key = {uid} and recovery_score < 95 order by date_key desc limit 1"
        )[0]
        before = row["recovery_score"]
        scored = warehouse.query(
            f"select max(scored_at) as t from gold.fact_predictions where user_key = {uid}"
        )[0]["t"]
        admin.rescore(uid, "recovery", str(row["cycle_id"]))
        to_gold = _poll(
            lambda: (
                warehouse.query(
                    "select recovery_score from gold.fact_daily_recovery "
                    f"where cycle_id = {int(row['cycle_id'])}"
                )[0]["recovery_score"]
                != before
            )
        )
        to_prediction = to_gold + _poll(
            lambda: (
                warehouse.query(
                    f"select max(scored_at) as t from gold.fact_predictions where user_key = {uid}"
                )[0]["t"]
                != scored
            )
        )
        workout = warehouse.query(
            "select workout_id from gold.fact_workouts "
            f"where user_key = {uid} order by date_key desc limit 1"
        )[0]["workout_id"]
        admin.client.delete(f"/records/workout/{uid}/{workout}").raise_for_status()
        deleted = _poll(
            lambda: (
                not warehouse.query(
                    f"select 1 from gold.fact_workouts where workout_id = '{workout}'"
                )
            )
        )
    finally:
        admin.close()
        warehouse.close()
    return {
        "rescore_to_gold_s": to_gold,
        "rescore_to_prediction_s": to_prediction,
        "delete_to_gold_s": deleted,
        "history_days": 90,
    }
