"""Loader throughput and memory: ``DuckDBWarehouse.load_bronze`` vs dlt on the same bronze files.

Both contenders load the same synthetic gzip NDJSON bronze files (realistic WHOOP v2 records;
many 25-record page files AND a few large files) into a fresh DuckDB file, each in its own
subprocess so peak RSS (polled with psutil, children included) belongs to one contender only.

* ``wdp``: the loader's warehouse adapter exactly as the service calls it: micro-batches of
  ``WDP_LOADER_MAX_BATCH_SIZE`` (default) files per transaction, ``WDP_LOADER_CONCURRENCY``
  (default) batches in flight from worker threads (the consumer's ``asyncio.to_thread``), each
  preparing outside the lock and committing in one short connection under it.
* ``dlt``: ``pipeline.run`` with one resource per raw table yielding each file's parsed
  records as one list (dlt's documented fast path: yield pages, not items), ``append``
  write disposition, ``max_table_nesting=0`` (nested objects stay JSON instead of exploding
  into child tables, which would be slower), ``duckdb`` destination. Both the ``jsonl`` and the
  ``parquet`` loader file formats are tried and the faster one is reported.

Size: ``WDP_BENCH_LOADER_RECORDS`` (default 1,000,000: half in 25-record pages, half in five
large files).
"""

from __future__ import annotations

import gzip
import json
import logging
import multiprocessing
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from bench import BenchResult
from loader.settings import LoaderSettings

log = logging.getLogger(__name__)

RESOURCES = ("cycle", "sleep", "recovery", "workout")
PAGE_SIZE = 25
LARGE_FILES = 5
#: The loader service's own default, so the benchmark measures the batches it really commits.
BATCH_FILES: int = LoaderSettings.model_fields["max_batch_size"].default
CONCURRENCY: int = LoaderSettings.model_fields["concurrency"].default
RSS_GOAL_BYTES = 1 << 30


# --- synthetic bronze ------------------------------------------------------------------------


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _record(resource: str, i: int, rng: random.Random, user_id: int) -> dict[str, Any]:
    """One WHOOP v2 record shaped like the API reference examples."""
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=i * 7 % 20000, minutes=i % 60)
    end = start + timedelta(hours=8, minutes=rng.randint(0, 90))
    updated = end + timedelta(minutes=rng.randint(1, 600))
    base = {
        "user_id": user_id,
        "created_at": _iso(end),
        "updated_at": _iso(updated),
    }
    if resource == "cycle":
        return {
            "id": 1_000_000_000 + i,
            **base,
            "start": _iso(start),
            "end": _iso(end),
            "timezone_offset": "-07:00",
            "score_state": "SCORED",
            "score": {
                "strain": round(rng.uniform(2, 20), 6),
                "kilojoule": round(rng.uniform(5000, 15000), 1),
                "average_heart_rate": rng.randint(55, 90),
                "max_heart_rate": rng.randint(120, 195),
            },
        }
    if resource == "sleep":
        in_bed = rng.randint(5, 10) * 3_600_000
        return {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "cycle_id": 1_000_000_000 + i,
            **base,
            "start": _iso(start),
            "end": _iso(end),
            "timezone_offset": "-07:00",
            "nap": rng.random() < 0.1,
            "score_state": "SCORED",
            "score": {
                "stage_summary": {
                    "total_in_bed_time_milli": in_bed,
                    "total_awake_time_milli": in_bed // 12,
                    "total_no_data_time_milli": 0,
                    "total_light_sleep_time_milli": in_bed // 2,
                    "total_slow_wave_sleep_time_milli": in_bed // 5,
                    "total_rem_sleep_time_milli": in_bed // 4,
                    "sleep_cycle_count": rng.randint(3, 6),
                    "disturbance_count": rng.randint(0, 15),
                },
                "sleep_needed": {
                    "baseline_milli": 27_000_000,
                    "need_from_sleep_debt_milli": rng.randint(0, 3_000_000),
                    "need_from_recent_strain_milli": rng.randint(0, 900_000),
                    "need_from_recent_nap_milli": -rng.randint(0, 900_000),
                },
                "respiratory_rate": round(rng.uniform(12, 18), 6),
                "sleep_performance_percentage": float(rng.randint(50, 100)),
                "sleep_consistency_percentage": float(rng.randint(40, 100)),
                "sleep_efficiency_percentage": round(rng.uniform(75, 99), 5),
            },
        }
    if resource == "recovery":
        return {
            "cycle_id": 1_000_000_000 + i,
            "sleep_id": str(uuid.UUID(int=rng.getrandbits(128))),
            **base,
            "score_state": "SCORED",
            "score": {
                "user_calibrating": False,
                "recovery_score": float(rng.randint(1, 99)),
                "resting_heart_rate": float(rng.randint(40, 70)),
                "hrv_rmssd_milli": round(rng.uniform(20, 150), 5),
                "spo2_percentage": round(rng.uniform(93, 99), 2),
                "skin_temp_celsius": round(rng.uniform(32, 35), 2),
            },
        }
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        **base,
        "start": _iso(start),
        "end": _iso(start + timedelta(minutes=rng.randint(20, 120))),
        "timezone_offset": "-07:00",
        "sport_name": rng.choice(["running", "cycling", "weightlifting_msk", "yoga"]),
        "score_state": "SCORED",
        "score": {
            "strain": round(rng.uniform(2, 20), 4),
            "average_heart_rate": rng.randint(90, 170),
            "max_heart_rate": rng.randint(140, 195),
            "kilojoule": round(rng.uniform(500, 4000), 1),
            "percent_recorded": 100.0,
            "distance_meter": round(rng.uniform(0, 20000), 1),
            "altitude_gain_meter": round(rng.uniform(0, 300), 1),
            "altitude_change_meter": round(rng.uniform(-20, 20), 1),
            "zone_durations": {
                f"zone_{z}_milli": rng.randint(0, 1_200_000)
                for z in ("zero", "one", "two", "three", "four", "five")
            },
        },
    }


def generate_bronze(root: Path, records: int, seed: int = 7) -> list[dict[str, str]]:
    """Write the bronze files; returns ``[{blob_path, local_path, resource}]``.

    Half the records go to 25-record page files (the extractor's webhook/incremental shape),
    half to five large files (a backfill window), spread over the four collection resources.
    """
    rng = random.Random(seed)
    files: list[dict[str, str]] = []
    half = records // 2

    def write(resource: str, start: int, count: int, name: str) -> None:
        user_id = 10_000 + start % 50
        blob = f"bronze/whoop/{resource}/user_id={user_id}/dt=2025-03-12/{name}.ndjson.gz"
        local = root / f"{name}.ndjson.gz"
        lines = (json.dumps(_record(resource, start + k, rng, user_id)) for k in range(count))
        with gzip.open(local, "wt", compresslevel=6) as out:
            for line in lines:
                out.write(line)
                out.write("\n")
        files.append({"blob_path": blob, "local_path": str(local), "resource": resource})

    pages = half // PAGE_SIZE
    for p in range(pages):
        write(RESOURCES[p % 4], p * PAGE_SIZE, PAGE_SIZE, f"page-{p:06d}")
    rest = records - pages * PAGE_SIZE
    for k in range(LARGE_FILES):
        count = rest // LARGE_FILES + (1 if k < rest % LARGE_FILES else 0)
        write(RESOURCES[k % 4], 10_000_000 + k * count, count, f"large-{k}")
    return files


# --- contenders (run in a spawned subprocess each) --------------------------------------------


def _run_wdp(files: list[dict[str, str]], db: str, out: Any) -> None:
    from shared.adapters.warehouse.duckdb import DuckDBWarehouse
    from shared.ports.warehouse import BronzeFile

    wh = DuckDBWarehouse(Path(db))
    wh.ensure_schema()
    bronze = [
        BronzeFile(
            blob_path=f["blob_path"],
            local_path=Path(f["local_path"]),
            resource=f["resource"],
            etag=f"0x{i:08X}",
        )
        for i, f in enumerate(files)
    ]
    batches = [bronze[b : b + BATCH_FILES] for b in range(0, len(bronze), BATCH_FILES)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        results = list(
            pool.map(lambda i: wh.load_bronze(f"bench-{i}", batches[i]), range(len(batches)))
        )
    elapsed = time.perf_counter() - started
    rows = sum(sum(r.rows_by_resource.values()) for r in results)
    stored = wh.query(
        " UNION ALL ".join(f"SELECT count(*) AS n FROM bronze.raw_{r}" for r in RESOURCES)
    )
    out.put(
        {
            "rows": rows,
            "stored": sum(int(r["n"]) for r in stored),
            "seconds": elapsed,
            "db_bytes": _db_bytes(Path(db)),
        }
    )


def _run_dlt(files: list[dict[str, str]], db: str, workdir: str, fmt: str, out: Any) -> None:
    import dlt

    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"

    def pages(resource: str) -> Iterator[list[dict[str, Any]]]:
        for f in files:
            if f["resource"] != resource:
                continue
            with gzip.open(f["local_path"], "rt") as fh:
                batch: list[dict[str, Any]] = []
                for line in fh:
                    batch.append(json.loads(line))
                    if len(batch) >= 5000:
                        yield batch
                        batch = []
                if batch:
                    yield batch

    sources = [
        dlt.resource(pages(r), name=f"raw_{r}", write_disposition="append", max_table_nesting=0)
        for r in RESOURCES
    ]
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{fmt}",
        destination=dlt.destinations.duckdb(db),
        dataset_name="bronze",
        pipelines_dir=workdir,
    )
    started = time.perf_counter()
    pipeline.run(sources, loader_file_format=fmt)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    import duckdb

    con = duckdb.connect(db)
    stored = 0
    for r in RESOURCES:
        row = con.execute(f"SELECT count(*) FROM bronze.raw_{r}").fetchone()
        stored += int(row[0]) if row else 0
    con.close()
    out.put({"rows": stored, "stored": stored, "seconds": elapsed, "db_bytes": _db_bytes(Path(db))})


def _db_bytes(db: Path) -> int:
    """Size of the database file plus any WAL left behind: both contenders' durable result."""
    wal = db.with_name(db.name + ".wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _measure(target: Any, args: tuple[Any, ...], timeout_s: float = 1800) -> dict[str, Any]:
    """Run a contender in a fresh process; poll its RSS (and its children's) with psutil."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, out))
    proc.start()
    peak = 0
    watched = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout_s
    while proc.is_alive() and time.monotonic() < deadline:
        try:
            rss = watched.memory_info().rss
            for child in watched.children(recursive=True):
                rss += child.memory_info().rss
        except psutil.NoSuchProcess:
            break
        peak = max(peak, rss)
        time.sleep(0.02)
    proc.join(timeout=max(1.0, deadline - time.monotonic()))
    if proc.exitcode != 0:
        raise RuntimeError(f"{target.__name__} exited with {proc.exitcode}")
    result: dict[str, Any] = out.get(timeout=10)
    result["peak_rss_bytes"] = peak
    return result


def run(results_dir: Path) -> list[BenchResult]:
    """Generate bronze, load it with both contenders, return rows/s and peak-RSS results."""
    del results_dir  # the runner writes the results
    records = int(os.environ.get("WDP_BENCH_LOADER_RECORDS", "1000000"))
    with tempfile.TemporaryDirectory(prefix="wdp-bench-loader-") as tmp:
        root = Path(tmp)
        (root / "bronze").mkdir()
        t0 = time.perf_counter()
        files = generate_bronze(root / "bronze", records)
        log.info(
            "generated %d files / %d records in %.1fs",
            len(files),
            records,
            time.perf_counter() - t0,
        )
        wdp = _measure(_run_wdp, (files, str(root / "wdp.duckdb")))
        log.info("wdp: %s", wdp)
        dlt_runs = {}
        for fmt in ("jsonl", "parquet"):
            work = root / f"dlt-{fmt}"
            work.mkdir()
            dlt_runs[fmt] = _measure(_run_dlt, (files, str(work / "dlt.duckdb"), str(work), fmt))
            log.info("dlt %s: %s", fmt, dlt_runs[fmt])
    best_fmt = max(dlt_runs, key=lambda f: dlt_runs[f]["rows"] / dlt_runs[f]["seconds"])
    dlt_best = dlt_runs[best_fmt]
    ours = wdp["rows"] / wdp["seconds"]
    theirs = dlt_best["rows"] / dlt_best["seconds"]
    details: dict[str, object] = {
        "records": records,
        "files": len(files),
        "page_files": sum(1 for f in files if "page-" in f["local_path"]),
        "large_files": LARGE_FILES,
        "batch_files": BATCH_FILES,
        "concurrency": CONCURRENCY,
        "wdp": wdp,
        "dlt": dlt_runs,
        "dlt_best_format": best_fmt,
        "ratio": ours / theirs,
        "cpu_count": os.cpu_count(),
    }
    return [
        BenchResult(
            name="loader_rows_per_s",
            metric="rows loaded per second (bronze gzip NDJSON -> DuckDB raw tables)",
            value=round(ours, 1),
            unit="rows/s",
            goal=">= 10x dlt rows/s",
            peer="dlt",
            peer_value=round(theirs, 1),
            details=details,
        ),
        BenchResult(
            name="loader_peak_rss",
            metric="peak RSS of the loading process",
            value=round(wdp["peak_rss_bytes"] / 2**20, 1),
            unit="MiB",
            goal="<= 1024 MiB",
            peer="dlt",
            peer_value=round(dlt_best["peak_rss_bytes"] / 2**20, 1),
            details={"rss_goal_bytes": RSS_GOAL_BYTES, "dlt_format": best_fmt},
        ),
    ]
