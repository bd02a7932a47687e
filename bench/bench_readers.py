"""Reader latency while writers work: the published (audited) copy vs the writers' file.

A DuckDB warehouse with 100 members × 5 years of daily gold is published; then a writer
process loads rows and republishes every 0.5 s (what the loader and the transformer's
publish do), holding the warehouse lock most of the time. A dashboard-style query (one
member's last 90 days) runs 300 times at idle and 300 times during that ingest, against the
published file (``PublishedDuckDB``, what readers use) and, as the peer, against the writers'
file through its lock (what every reader did before write-audit-publish).
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from bench import BenchResult
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.adapters.warehouse.published import PublishedDuckDB

MEMBERS = 100
DAYS = 5 * 365
QUERIES = 300
GOAL_RATIO = 1.2
SQL = (
    "select date_key, recovery_score, hrv_rmssd_ms, resting_heart_rate_bpm, "
    "avg(recovery_score) over (order by date_key rows 6 preceding) as avg_7d "
    "from gold.fact_daily_recovery where user_key = 42 and date_key >= 20250101 "
    "order by date_key"
)


def _seed(path: Path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path)
    warehouse.execute("create schema if not exists gold")
    warehouse.execute(
        "create or replace table gold.fact_daily_recovery as select "
        "u as user_key, "
        "cast(strftime(date '2021-01-01' + cast(d as integer), '%Y%m%d') as integer) as date_key, "
        "50 + 40 * sin(u + d / 7.0) as recovery_score, 60 + 10 * cos(d) as hrv_rmssd_ms, "
        "55 + (u % 9) as resting_heart_rate_bpm "
        f"from range({MEMBERS}) t(u), range({DAYS}) s(d)"
    )
    warehouse.publish(["gold.fact_daily_recovery"])
    return warehouse


def _ingest(path: str, stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    warehouse = DuckDBWarehouse(Path(path))
    n = 0
    while not stop.is_set():
        with warehouse.connection() as con:  # the lock, held like a load and a dbt build
            con.execute(
                "insert into gold.fact_daily_recovery select 1000 + ?, 20991231, 1, 1, 1 "
                "from range(20000)",
                [n],
            )
            time.sleep(0.3)
        n += 1
        if n % 2 == 0:
            warehouse.publish(["gold.fact_daily_recovery"])


def _p95(run: list[float]) -> float:
    return statistics.quantiles(run, n=20)[18] * 1000


def _time(reader: DuckDBWarehouse | PublishedDuckDB) -> list[float]:
    out = []
    for _ in range(QUERIES):
        started = time.perf_counter()
        reader.query(SQL)
        out.append(time.perf_counter() - started)
    return out


def run(results_dir: Path) -> list[BenchResult]:
    """Idle vs during-ingest p95 for the published reader, with the locked peer alongside."""
    del results_dir
    with tempfile.TemporaryDirectory(prefix="wdp-bench-readers-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        writers = _seed(path)
        readers = PublishedDuckDB(writers.published_path)
        idle = _p95(_time(readers))
        idle_peer = _p95(_time(writers))
        ctx = multiprocessing.get_context("spawn")
        stop = ctx.Event()
        ingest = ctx.Process(target=_ingest, args=(str(path), stop))
        ingest.start()
        try:
            time.sleep(1.0)
            busy = _p95(_time(readers))
            busy_peer = _p95(_time(writers))
        finally:
            stop.set()
            ingest.join(timeout=60)
    return [
        BenchResult(
            name="reader_p95_during_ingest",
            metric="dashboard query p95 during continuous ingest / p95 at idle (published copy)",
            value=round(busy / idle, 3),
            unit="ratio",
            goal=f"<= {GOAL_RATIO}",
            peer="same query on the writers' file through its lock (before write-audit-publish)",
            peer_value=round(busy_peer / idle_peer, 3),
            details={
                "published_idle_p95_ms": round(idle, 3),
                "published_ingest_p95_ms": round(busy, 3),
                "locked_idle_p95_ms": round(idle_peer, 3),
                "locked_ingest_p95_ms": round(busy_peer, 3),
                "rows": MEMBERS * DAYS,
            },
        )
    ]
