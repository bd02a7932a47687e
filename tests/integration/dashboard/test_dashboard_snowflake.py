"""The dashboard's SQL on the Snowflake adapter (fakesnow): same pages, same numbers.

Gold is created directly from ground-truth rows (only the columns the dashboard reads) in a
fresh fakesnow database, through ``SnowflakeWarehouse``; this pins the portability of every
query (qmark binding, ``information_schema``, upper-case identifiers, ``limit``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from dashboard_gold import aggregate, gold_rows, sim_users

from dashboard.app import create_app
from dashboard.settings import DashboardSettings
from shared.adapters.warehouse.snowflake import SnowflakeWarehouse
from tests.fakesnow_server import FakesnowServer, fakesnow_server

__all__ = ["fakesnow_server"]

Snow = tuple[SnowflakeWarehouse, Any, dict[str, list[dict[str, Any]]]]

ADMIN = {"X-API-Key": "admin-key-snowflake-0001"}
MEMBER = {"X-API-Key": "member-key-snowflake-01"}
READ = {
    "fact_daily_recovery": (
        "user_key date_key recovery_score recovery_band hrv_rmssd_ms resting_heart_rate_bpm "
        "spo2_percentage skin_temp_celsius user_calibrating updated_at"
    ),
    "fact_strain": (
        "user_key date_key cycle_start_timestamp day_strain_score calories_burned "
        "avg_heart_rate_bpm max_heart_rate_bpm"
    ),
    "fact_sleep": (
        "user_key date_key sleep_id is_nap score_state sleep_start_timestamp sleep_end_timestamp "
        "start_at_local end_at_local "
        "in_bed_minutes awake_minutes light_sleep_minutes deep_sleep_minutes rem_sleep_minutes "
        "no_data_minutes total_sleep_minutes sleep_efficiency_pct "
        "sleep_performance_pct respiratory_rate"
    ),
    "fact_workouts": (
        "user_key date_key workout_id activity_type_key sport_name score_state "
        "workout_start_timestamp duration_minutes strain_score avg_heart_rate_bpm calories_burned"
    ),
}


def _sql_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "number(38,0)"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime):
        return "timestamp_ntz"
    if isinstance(value, date):
        return "date"
    return "varchar"


def _create(
    warehouse: SnowflakeWarehouse,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    types: Mapping[str, str] | None = None,
) -> None:
    types = dict(types or {})
    for c in columns:
        sample = next((r[c] for r in rows if r.get(c) is not None), "")
        types.setdefault(c, _sql_type(sample))
    warehouse.execute(f"create table {table} ({', '.join(f'{c} {types[c]}' for c in columns)})")
    row_sql = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), 200):
        part = rows[start : start + 200]
        warehouse.execute(
            f"insert into {table} ({', '.join(columns)}) values "
            + ", ".join(row_sql for _ in part),
            [r.get(c) for r in part for c in columns],
        )


def _predictions(recoveries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A toy 3-day-mean model: enough to check alignment, next day and anomaly marks."""
    ordered = sorted(recoveries, key=lambda r: r["date_key"])
    out = []
    for i, rec in enumerate(ordered):
        day = date(rec["date_key"] // 10000, rec["date_key"] // 100 % 100, rec["date_key"] % 100)
        target = day + timedelta(days=1)
        window = [r["recovery_score"] for r in ordered[max(0, i - 2) : i + 1]]
        mean = sum(window) / len(window)
        out.append(
            {
                "user_key": rec["user_key"],
                "date_key": target.year * 10000 + target.month * 100 + target.day,
                "model_name": "ridge_recovery",
                "model_version": "v1",
                "predicted_recovery": mean,
                "lower_80": mean - 10.0,
                "upper_80": mean + 10.0,
                "is_anomaly": i == len(ordered) - 5,
                "anomaly_score": 4.0 if i == len(ordered) - 5 else 0.0,
                "anomaly_reasons": "hrv_low (z=-4.0)" if i == len(ordered) - 5 else "",
            }
        )
    return out


@pytest.fixture(scope="module")
def snow(fakesnow_server: FakesnowServer) -> Iterator[Snow]:
    warehouse = SnowflakeWarehouse(
        fakesnow_server.connect_kwargs(),
        database=f"D{uuid.uuid4().hex[:12]}",
        create_database=True,
    )
    warehouse.ensure_schema()
    user = sim_users(99, 1, 45, date(2026, 6, 30))[0]
    rows = gold_rows([user], 0.0)
    warehouse.execute("create schema if not exists gold")
    for table, columns in READ.items():
        _create(warehouse, f"gold.{table}", rows[table], columns.split())
    rows["fact_predictions"] = _predictions(rows["fact_daily_recovery"])
    _create(
        warehouse,
        "gold.fact_predictions",
        rows["fact_predictions"],
        list(rows["fact_predictions"][0]),
    )
    stages = [
        {"sleep_stage_key": i, "sleep_stage_name": n, "is_asleep": n in ("Light", "Deep", "REM"),
         "sort_order": i}
        for i, n in enumerate(["Awake", "Light", "Deep", "REM"], start=1)
    ]  # fmt: skip
    _create(warehouse, "gold.dim_sleep_stage", stages, list(stages[0]))
    weekly = aggregate(rows, "week")
    _create(warehouse, "gold.agg_weekly_user", weekly, list(weekly[0]))
    rows["agg_weekly_user"] = weekly
    warehouse.execute(
        "insert into bronze.quarantine_files (blob_path, etag, reason, quarantined_at) "
        "values (?, ?, ?, ?)",
        ["bronze/whoop/cycle/x.gz", "e1", "bad gzip", datetime(2026, 6, 30, 12)],
    )
    try:
        yield warehouse, user, rows
    finally:
        warehouse.close()


@pytest.fixture
async def client(snow: Snow) -> Any:
    warehouse, user, _ = snow
    settings = DashboardSettings(
        environment="test",
        api_keys={ADMIN["X-API-Key"]: "admin", MEMBER["X-API-Key"]: [user.user_id + 1]},
    )
    app = create_app(settings, warehouse=warehouse)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dashboard"
    ) as c:
        yield c


async def test_overview_on_snowflake(client: httpx.AsyncClient, snow: Snow) -> None:
    _, user, rows = snow
    body = (await client.get(f"/api/v1/users/{user.user_id}/overview", headers=ADMIN)).json()
    latest = max(rows["fact_daily_recovery"], key=lambda r: r["date_key"])
    assert body["recovery"]["recovery_score"] == pytest.approx(latest["recovery_score"])
    nxt = max(rows["fact_predictions"], key=lambda r: r["date_key"])
    assert body["next_day"]["predicted_recovery"] == pytest.approx(nxt["predicted_recovery"])
    assert body["prediction_model"] == "ridge_recovery"
    flagged = next(p for p in rows["fact_predictions"] if p["is_anomaly"])
    key = flagged["date_key"]
    expected_day = date(key // 10000, key // 100 % 100, key % 100) - timedelta(days=1)
    assert body["anomaly_days"] == [expected_day.isoformat()]
    page = await client.get(f"/users/{user.user_id}", headers=ADMIN)
    assert page.status_code == 200 and f"{latest['recovery_score']:,.0f}%" in page.text


async def test_other_pages_on_snowflake(client: httpx.AsyncClient, snow: Snow) -> None:
    _, user, rows = snow
    uid = user.user_id
    sleep = (await client.get(f"/api/v1/users/{uid}/sleep?days=365", headers=ADMIN)).json()
    assert len(sleep["nights"]) == len(rows["fact_sleep"])
    workouts = (await client.get(f"/api/v1/users/{uid}/workouts?days=365", headers=ADMIN)).json()
    assert workouts["total_count"] == len(rows["fact_workouts"])
    weekly = (await client.get(f"/api/v1/users/{uid}/aggregates/weekly", headers=ADMIN)).json()
    assert [r["workout_count"] for r in weekly["rows"]] == [
        r["workout_count"] for r in rows["agg_weekly_user"]
    ]
    dq = (await client.get("/api/v1/data-quality", headers=ADMIN)).json()
    assert dq["quarantined_files_count"] == 1
    gold = {g["table"]: g["row_count"] for g in dq["gold_tables"]}
    assert gold["fact_sleep"] == len(rows["fact_sleep"])
    for path in ("overview", "sleep", "workouts", "aggregates/weekly"):
        response = await client.get(f"/api/v1/users/{uid}/{path}", headers=MEMBER)
        assert response.status_code == 403
