"""Benchmarks: ``make bench`` runs every ``bench/bench_*.py`` and writes one JSON per result.

Each module exposes ``run(results_dir: Path) -> list[BenchResult]``. Speed and memory targets
live here, never in timed unit tests.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass(frozen=True)
class BenchResult:
    """One measured figure, its goal, and the peer's figure where one was run alongside."""

    name: str
    metric: str
    value: float
    unit: str
    goal: str
    peer: str | None = None
    peer_value: float | None = None
    details: dict[str, object] | None = None

    def write(self, results_dir: Path = RESULTS_DIR) -> Path:
        """Write ``<results_dir>/<name>.json`` and return its path."""
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n")
        return path
