"""Decompression bomb: peak RSS of the loader's load path on a 200 KB gzip of 200 MiB newlines.

Before the input limits this file took the loader past 9 GB RSS and never finished: every
newline became a line of the combined file and a row of the classify scan, and a redelivery
did it all again. Now the coalescer streams the inflation through
:class:`~shared.adapters.warehouse.bronze.InputMeter`, skips empty lines and quarantines the
file as ``too_large`` once ``WDP_LOADER_MAX_INFLATED_BYTES`` is crossed.

* ``wdp``: ``DuckDBWarehouse.load_bronze`` with the loader service's default limits
  (``LoaderSettings().input_limits()``), the bomb plus one good 25-record page in one batch,
  in a spawned process whose RSS is polled (the loader benchmark's ``_measure``).
* ``wdp_unlimited`` (details): the same with every limit lifted, to show the empty-line skip
  alone keeps this file cheap (it is the byte cap that bounds a bomb of non-empty lines).
* peer ``naive``: what a straightforward loader does, ``gzip.decompress`` then
  ``split(b"\\n")``, on a bomb a quarter the size (50 MiB) so the box is not put at risk; it
  scales linearly, so the full file would cost about four times as much.
"""

from __future__ import annotations

import gzip
import json
import logging
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from bench import BenchResult
from bench.bench_loader import _measure
from loader.settings import LoaderSettings

log = logging.getLogger(__name__)

BOMB_BYTES = 200 << 20
NAIVE_BOMB_BYTES = 50 << 20
RSS_GOAL_MIB = 1024


def newline_bomb(path: Path, inflated: int) -> int:
    """Write one gzip member of ``inflated`` newlines, built 1 MiB at a time; returns size."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    step = b"\n" * (1 << 20)
    with path.open("wb") as out:
        for _ in range(inflated >> 20):
            out.write(packer.compress(step))
        out.write(packer.flush())
    return path.stat().st_size


def _good_page(path: Path) -> None:
    lines = [
        json.dumps({"id": i, "user_id": 7, "updated_at": "2025-03-12T04:05:51.207Z"})
        for i in range(25)
    ]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def _run_wdp(bomb: str, page: str, db: str, unlimited: bool, out: Any) -> None:
    from shared.adapters.warehouse.duckdb import DuckDBWarehouse
    from shared.ports.warehouse import BronzeFile, InputLimits

    limits = LoaderSettings().input_limits()
    if unlimited:
        limits = InputLimits(max_inflated_bytes=1 << 62, max_line_bytes=1 << 30, max_lines=1 << 62)
    wh = DuckDBWarehouse(Path(db))
    wh.ensure_schema()
    folder = "bronze/whoop/cycle/user_id=7/dt=2025-03-12"
    files = [
        BronzeFile(f"{folder}/bomb.ndjson.gz", Path(bomb), "cycle", "0x1"),
        BronzeFile(f"{folder}/page.ndjson.gz", Path(page), "cycle", "0x2"),
    ]
    started = time.perf_counter()
    result = wh.load_bronze("bench-bomb", files, limits=limits)
    out.put(
        {
            "seconds": time.perf_counter() - started,
            "rows": sum(result.rows_by_resource.values()),
            "quarantined": dict(result.quarantined),
        }
    )


def _run_naive(bomb: str, out: Any) -> None:
    started = time.perf_counter()
    lines = gzip.decompress(Path(bomb).read_bytes()).split(b"\n")
    out.put({"seconds": time.perf_counter() - started, "lines": len(lines)})


def run(results_dir: Path) -> list[BenchResult]:
    """Build the bombs, measure each contender in its own process, return the peak RSS."""
    del results_dir  # the runner writes the results
    with tempfile.TemporaryDirectory(prefix="wdp-bench-bomb-") as tmp:
        root = Path(tmp)
        bomb, small, page = root / "bomb.gz", root / "small.gz", root / "page.gz"
        wire = newline_bomb(bomb, BOMB_BYTES)
        newline_bomb(small, NAIVE_BOMB_BYTES)
        _good_page(page)
        wdp = _measure(_run_wdp, (str(bomb), str(page), str(root / "a.duckdb"), False))
        log.info("wdp: %s", wdp)
        unlimited = _measure(_run_wdp, (str(bomb), str(page), str(root / "b.duckdb"), True))
        log.info("wdp without limits: %s", unlimited)
        naive = _measure(_run_naive, (str(small),))
        log.info("naive: %s", naive)
    if wdp["rows"] != 25 or len(wdp["quarantined"]) != 1:
        raise RuntimeError(f"the bomb was not quarantined beside the good page: {wdp}")
    mib = 2**20
    return [
        BenchResult(
            name="loader_bomb_peak_rss",
            metric="peak RSS loading a 200 KB gzip of 200 MiB newlines (+ one good page)",
            value=round(wdp["peak_rss_bytes"] / mib, 1),
            unit="MiB",
            goal=f"<= {RSS_GOAL_MIB} MiB, file quarantined, good page loaded",
            peer="naive gzip.decompress + split of a 50 MiB bomb (1/4 size)",
            peer_value=round(naive["peak_rss_bytes"] / mib, 1),
            details={
                "bomb_wire_bytes": wire,
                "bomb_inflated_bytes": BOMB_BYTES,
                "limits": LoaderSettings().input_limits().__dict__,
                "wdp": wdp,
                "wdp_unlimited": {**unlimited, "peak_rss_mib": unlimited["peak_rss_bytes"] / mib},
                "naive": naive,
                "naive_inflated_bytes": NAIVE_BOMB_BYTES,
            },
        )
    ]
