"""Run every benchmark module (or those named on the command line) and write their JSON."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

from bench import RESULTS_DIR

log = logging.getLogger("bench")


def main(argv: list[str]) -> int:
    """``python -m bench [name ...]``: run ``bench/bench_<name>.py`` modules."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    here = Path(__file__).parent
    names = argv or sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        for result in module.run(RESULTS_DIR):
            path = result.write(RESULTS_DIR)
            log.info(
                "%s: %s = %.4g %s (goal %s) -> %s",
                result.name,
                result.metric,
                result.value,
                result.unit,
                result.goal,
                path,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
