"""Webhook → prediction latency through the whole local stack (issue 3's target: p95 ≤ 5 s).

Runs ``wdp demo``'s flow (real processes: simulator, receiver, extractor, loader,
transformer, scorer) in a temporary data dir and reports p50/p95 of 20 webhook → prediction
latencies, plus the demo's wall time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import BenchResult
from wdp_cli.commands.demo import DemoOptions, run_demo

WEBHOOKS = 20


def run(results_dir: Path) -> list[BenchResult]:
    """One demo run; three results (p50, p95, wall time)."""
    del results_dir  # the runner writes the results
    with tempfile.TemporaryDirectory(prefix="wdp-bench-pipeline-") as tmp:
        result = run_demo(DemoOptions(data_dir=Path(tmp) / "data", webhooks=WEBHOOKS))
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
