"""A real gold layer for the dashboard tests, and the oracle to check the pages against.

:func:`build_gold` writes the simulated members' records as bronze NDJSON files (a few
corrupted, plus one unreadable file), loads them with ``DuckDBWarehouse.load_bronze``, runs the
real dbt project and then the real scorer code (baseline predictions + anomaly flags) — the
production path, all through the ``Warehouse`` port.

The expected numbers come from the generator's ground truth (``expected_gold``, the oracle the
dbt tests compare gold against) and from Python re-computations here, never from the warehouse
the dashboard reads.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.ports import BronzeFile, Warehouse
from whoop_simulator.corruption import maybe_corrupt
from whoop_simulator.generator import SimUser, generate_user
from whoop_simulator.ground_truth import expected_gold

REPO_ROOT = Path(__file__).resolve().parents[3]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def sim_users(seed: int, n_users: int, days: int, end: date) -> list[SimUser]:
    """``n_users`` members with ``days`` of history ending on ``end``."""
    start = end - timedelta(days=days - 1)
    return [generate_user(seed, i, start, days) for i in range(n_users)]


def gold_rows(users: Iterable[SimUser], corrupt_rate: float) -> dict[str, list[dict[str, Any]]]:
    """``expected_gold`` of every user, merged per table (plus ``quarantine``)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for user in users:
        for table, rows in expected_gold(user, corrupt_rate=corrupt_rate).items():
            out[table].extend(rows)
    return dict(out)


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _key(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _day(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def aggregate(rows: Mapping[str, Sequence[Mapping[str, Any]]], period: str) -> list[dict[str, Any]]:
    """``agg_weekly_user`` / ``agg_monthly_user`` semantics in Python (see the dbt model)."""

    def start(key: int) -> date:
        d = _day(key)
        return _week_start(d) if period == "week" else d.replace(day=1)

    acc: dict[tuple[int, date], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows["fact_daily_recovery"]:
        a = acc[(r["user_key"], start(r["date_key"]))]
        a["recovery"].append(r["recovery_score"])
        if r["hrv_rmssd_ms"] is not None:
            a["hrv"].append(r["hrv_rmssd_ms"])
        if r["resting_heart_rate_bpm"] is not None:
            a["rhr"].append(r["resting_heart_rate_bpm"])
    for r in rows["fact_strain"]:
        a = acc[(r["user_key"], start(r["date_key"]))]
        if r["day_strain_score"] is not None:
            a["strain"].append(r["day_strain_score"])
    for r in rows["fact_sleep"]:
        # naps are left out; an unscored sleep has no minutes (the average skips it)
        if not r["is_nap"] and r["total_sleep_minutes"] is not None:
            acc[(r["user_key"], start(r["date_key"]))]["asleep"].append(r["total_sleep_minutes"])
    for r in rows["fact_workouts"]:
        acc[(r["user_key"], start(r["date_key"]))]["workouts"].append(r["duration_minutes"])

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    return [
        {
            "user_key": user_key,
            f"{period}_start_date_key": _key(first),
            f"{period}_start_date": first,
            "avg_recovery_score": mean(a["recovery"]),
            "avg_hrv_rmssd_ms": mean(a["hrv"]),
            "avg_resting_heart_rate_bpm": mean(a["rhr"]),
            "avg_day_strain_score": mean(a["strain"]),
            "avg_total_sleep_minutes": mean(a["asleep"]),
            "workout_count": len(a["workouts"]),
            "workout_minutes": float(sum(a["workouts"])),
        }
        for (user_key, first), a in sorted(acc.items())
    ]


def score_users(warehouse: Warehouse, users: Sequence[SimUser]) -> None:
    """Write ``gold.fact_predictions`` with the scorer's own code (baseline + anomalies)."""
    from scorer.domain.scoring import score
    from scorer.repository import PredictionRepository

    repo = PredictionRepository(warehouse)
    repo.ensure_table()
    run_id = uuid.uuid4().hex
    for user in users:
        frame = score(
            repo.read_gold(user.user_id), model=None, run_id=run_id, scored_at=datetime.now(UTC)
        )
        repo.write(user.user_id, sorted(set(frame["model_name"])), frame, run_id=run_id, since=None)


def _write_ndjson_gz(path: Path, lines: Iterable[Mapping[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")
    return path


def _visible(user: SimUser, resource: str, corrupt_rate: float) -> list[dict[str, Any]]:
    """Records visible at ``now``, corrupted exactly as the simulator's fault would."""
    out: list[dict[str, Any]] = []
    for tl in user.timelines[resource]:  # type: ignore[index]
        version = tl.at(user.now_ms)
        if version is not None:
            out.append(maybe_corrupt(version.record, resource, tl.key, user.seed, corrupt_rate))
    return out


def load_bronze(
    warehouse: Warehouse, users: Sequence[SimUser], lake: Path, *, corrupt_rate: float
) -> str:
    """Load every record visible now, plus one unreadable file; returns that file's path."""
    fetched_at = datetime.now(UTC)
    files: list[BronzeFile] = []
    for user in users:
        per_resource: dict[str, list[dict[str, Any]]] = {
            r: _visible(user, r, corrupt_rate) for r in ("cycle", "sleep", "recovery", "workout")
        }
        per_resource["profile"] = [dict(user.profile)]
        if user.body is not None:
            per_resource["body_measurement"] = [{**user.body, "user_id": user.user_id}]
        for resource, lines in per_resource.items():
            blob = (
                f"bronze/whoop/{resource}/user_id={user.user_id}/dt={fetched_at:%Y-%m-%d}/"
                f"{fetched_at:%Y%m%dT%H%M%S}_test_1.ndjson.gz"
            )
            files.append(
                BronzeFile(
                    blob_path=blob,
                    local_path=_write_ndjson_gz(lake / blob, lines),
                    resource=resource,
                    etag=uuid.uuid4().hex,
                    fetched_at=fetched_at,
                )
            )
    broken = f"bronze/whoop/sleep/user_id={users[0].user_id}/dt={fetched_at:%Y-%m-%d}/broken.gz"
    (lake / broken).parent.mkdir(parents=True, exist_ok=True)
    # A gzip stream cut in half: the loader cannot read it and quarantines the whole file.
    (lake / broken).write_bytes(gzip.compress(b'{"id": "x"}\n' * 200)[:40])
    files.append(
        BronzeFile(blob_path=broken, local_path=lake / broken, resource="sleep", etag="broken")
    )
    warehouse.ensure_schema()
    result = warehouse.load_bronze(uuid.uuid4().hex, files)
    assert list(result.quarantined) == [broken], result.quarantined
    return broken


def build_gold(
    warehouse: Warehouse, users: Sequence[SimUser], tmp: Path, *, corrupt_rate: float
) -> str:
    """Bronze → dbt build → scorer; returns the quarantined file's blob path."""
    from transformer.runner import BuildRequest, InProcessDbtRunner

    broken = load_bronze(warehouse, users, tmp / "lake", corrupt_rate=corrupt_rate)
    runner = InProcessDbtRunner(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target="duckdb",
        state_dir=tmp / "dbt",
        env={"WDP_DUCKDB_FILE": str(warehouse_path(warehouse))},
    )
    with warehouse.exclusive():
        outcome = runner.build(BuildRequest())
    assert outcome.success, (outcome.error, [str(f) for f in outcome.failures])
    score_users(warehouse, users)
    return broken


def warehouse_path(warehouse: Warehouse) -> Path:
    """The DuckDB file behind the adapter (dbt opens it itself, under our lock)."""
    path = getattr(warehouse, "path", None)
    assert isinstance(path, Path), "build_gold needs a DuckDBWarehouse"
    return path
