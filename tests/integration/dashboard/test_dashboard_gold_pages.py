"""Every page and API endpoint against real gold (bronze → dbt → scorer) in a tmp DuckDB.

Expected numbers come from the generator's ground truth and the scorer's rows, computed here;
nothing is hard-coded.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, timedelta

import httpx
import pytest
from conftest import (
    ADMIN_KEY,
    EMPTY_MEMBER_KEY,
    MEMBER_KEYS,
    NO_DATA_USER,
    GoldWorld,
    as_key,
    dashboard_settings,
    empty_warehouse,
)
from dashboard_gold import DBT_PROJECT_DIR, aggregate

from dashboard.app import create_app

ADMIN = {"X-API-Key": ADMIN_KEY}


def _day(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def _band(score: float) -> str:
    return "red" if score < 34 else "yellow" if score < 67 else "green"


def _sport_names() -> dict[int, str]:
    with (DBT_PROJECT_DIR / "seeds" / "whoop_sports.csv").open() as fh:
        return {int(r["sport_id"]): r["sport_name"] for r in csv.DictReader(fh)}


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_users_lists_every_member_for_admin(
    client: httpx.AsyncClient, world: GoldWorld
) -> None:
    body = (await client.get("/api/v1/users", headers=ADMIN)).json()
    assert [u["user_id"] for u in body["users"]] == sorted(u.user_id for u in world.users)
    for summary in body["users"]:
        recs = world.rows("fact_daily_recovery", summary["user_id"])
        assert summary["recovery_days"] == len(recs)
        assert summary["last_day"] == _day(max(r["date_key"] for r in recs)).isoformat()


async def test_overview_numbers_match_ground_truth_and_scorer(
    client: httpx.AsyncClient, world: GoldWorld
) -> None:
    user = world.users[0]
    uid = user.user_id
    body = (await client.get(f"/api/v1/users/{uid}/overview", headers=ADMIN)).json()
    assert body["has_data"] is True

    recs = sorted(world.rows("fact_daily_recovery", uid), key=lambda r: r["date_key"])
    latest = recs[-1]
    assert body["recovery"]["day"] == _day(latest["date_key"]).isoformat()
    assert body["recovery"]["recovery_score"] == pytest.approx(latest["recovery_score"])
    assert body["recovery"]["recovery_band"] == _band(latest["recovery_score"])
    assert body["recovery"]["hrv_rmssd_ms"] == pytest.approx(latest["hrv_rmssd_ms"])
    assert body["recovery"]["resting_heart_rate_bpm"] == pytest.approx(
        latest["resting_heart_rate_bpm"]
    )
    strain = max(
        (r for r in world.rows("fact_strain", uid) if r["day_strain_score"] is not None),
        key=lambda r: r["date_key"],
    )
    assert body["strain"]["day_strain_score"] == pytest.approx(strain["day_strain_score"])
    sleep = max(
        (
            r
            for r in world.rows("fact_sleep", uid)
            if not r["is_nap"] and r["score_state"] == "SCORED"
        ),
        key=lambda r: (r["date_key"], r["sleep_end_timestamp"]),
    )
    assert body["sleep"]["total_sleep_minutes"] == pytest.approx(sleep["total_sleep_minutes"])

    # 90-day window ending on the latest recovery, every recovery in it plotted.
    end = _day(latest["date_key"])
    start = end - timedelta(days=89)
    assert len(body["trend"]) == 90
    assert body["trend_start"] == start.isoformat()
    plotted = {p["day"]: p["recovery_score"] for p in body["trend"] if p["recovery_score"]}
    in_window = {
        _day(r["date_key"]).isoformat(): r["recovery_score"]
        for r in recs
        if start <= _day(r["date_key"]) <= end
    }
    assert plotted == pytest.approx(in_window)

    # Predictions: what the scorer wrote (baseline only, no trained model in this world).
    preds = world.warehouse.query(
        "select date_key, predicted_recovery, lower_80, upper_80, is_anomaly "
        "from gold.fact_predictions where user_key = ? and model_name = 'baseline_7d_mean'",
        [uid],
    )
    assert body["prediction_model"] == "baseline_7d_mean"
    next_row = max(preds, key=lambda p: p["date_key"])
    assert _day(next_row["date_key"]) == end + timedelta(days=1)
    assert body["next_day"]["predicted_recovery"] == pytest.approx(next_row["predicted_recovery"])
    assert body["next_day"]["lower_80"] == pytest.approx(next_row["lower_80"])
    assert body["next_day"]["upper_80"] == pytest.approx(next_row["upper_80"])
    by_day = {p["day"]: p for p in body["trend"]}
    for p in preds:
        day = _day(p["date_key"])
        if start <= day <= end:
            assert by_day[day.isoformat()]["predicted_recovery"] == pytest.approx(
                p["predicted_recovery"]
            )
    # Anomaly flags describe the day before the prediction's target day.
    expected_anomalies = sorted(
        (_day(p["date_key"]) - timedelta(days=1)).isoformat()
        for p in preds
        if p["is_anomaly"] and start <= _day(p["date_key"]) - timedelta(days=1) <= end
    )
    assert body["anomaly_days"] == expected_anomalies


async def test_overview_page_shows_the_numbers(client: httpx.AsyncClient, world: GoldWorld) -> None:
    uid = world.users[1].user_id
    recs = world.rows("fact_daily_recovery", uid)
    latest = max(recs, key=lambda r: r["date_key"])
    response = await client.get(f"/users/{uid}", headers=ADMIN)
    assert response.status_code == 200
    html = response.text
    assert f"{latest['recovery_score']:,.0f}%" in html
    assert f"{latest['hrv_rmssd_ms']:,.1f}" in html
    assert "<svg" in html and 'class="next-day"' in html
    assert f"band-{_band(latest['recovery_score'])}" in html
    assert "cdn" not in html.lower() and "https://" not in html


async def test_sleep_stages_per_night(client: httpx.AsyncClient, world: GoldWorld) -> None:
    uid = world.users[0].user_id
    body = (await client.get(f"/api/v1/users/{uid}/sleep?days=14", headers=ADMIN)).json()
    sleeps = world.rows("fact_sleep", uid)
    end = max(r["date_key"] for r in sleeps)
    start = as_key(_day(end) - timedelta(days=13))
    window = [r for r in sleeps if start <= r["date_key"] <= end]
    main = [r for r in window if not r["is_nap"]]
    assert len(body["nights"]) == len(window)
    assert body["main_sleep_count"] == len(main)
    assert [s["sleep_stage_name"] for s in body["stages"]] == ["Awake", "Light", "Deep", "REM"]
    scored = [r for r in main if r["score_state"] == "SCORED"]
    assert body["average_stage_minutes"]["Deep"] == pytest.approx(
        sum(r["deep_sleep_minutes"] for r in scored) / len(scored)
    )
    assert body["average_asleep_minutes"] == pytest.approx(
        sum(r["total_sleep_minutes"] for r in scored) / len(scored)
    )
    html = (await client.get(f"/users/{uid}/sleep", headers=ADMIN)).text
    assert "Stages per night" in html and "<rect" in html


async def test_workouts_by_activity_type(client: httpx.AsyncClient, world: GoldWorld) -> None:
    uid = world.users[0].user_id
    body = (await client.get(f"/api/v1/users/{uid}/workouts?days=365", headers=ADMIN)).json()
    workouts = world.rows("fact_workouts", uid)
    grouped: dict[int, list[float]] = defaultdict(list)
    for w in workouts:
        grouped[w["activity_type_key"]].append(w["duration_minutes"])
    names = _sport_names()
    got = {a["activity_type_key"]: a for a in body["by_activity"]}
    assert set(got) == set(grouped)
    for key, minutes in grouped.items():
        assert got[key]["workout_count"] == len(minutes)
        assert got[key]["total_minutes"] == pytest.approx(sum(minutes))
        assert got[key]["activity_name"] == names[key]
    assert body["total_count"] == len(workouts)
    html = (await client.get(f"/users/{uid}/workouts", headers=ADMIN)).text
    top = max(grouped, key=lambda k: sum(grouped[k]))
    assert names[top] in html


@pytest.mark.parametrize(("period", "grain"), [("weekly", "week"), ("monthly", "month")])
async def test_aggregates_match_facts(
    client: httpx.AsyncClient, world: GoldWorld, period: str, grain: str
) -> None:
    uid = world.users[1].user_id
    body = (await client.get(f"/api/v1/users/{uid}/aggregates/{period}", headers=ADMIN)).json()
    expected = [r for r in aggregate(world.expected, grain) if r["user_key"] == uid]
    expected = expected[-len(body["rows"]) :]
    assert body["rows"], body
    assert [r["period_start"] for r in body["rows"]] == [
        r[f"{grain}_start_date"].isoformat() for r in expected
    ]
    for got, want in zip(body["rows"], expected, strict=True):
        assert got["avg_recovery_score"] == pytest.approx(want["avg_recovery_score"])
        assert got["workout_count"] == want["workout_count"]
        assert got["avg_total_sleep_minutes"] == pytest.approx(want["avg_total_sleep_minutes"])
    html = (await client.get(f"/users/{uid}/trends", headers=ADMIN)).text
    assert f"{expected[-1]['avg_recovery_score']:,.1f}" in html


async def test_data_quality_counts_quarantine_and_freshness(
    client: httpx.AsyncClient, world: GoldWorld
) -> None:
    body = (await client.get("/api/v1/data-quality", headers=ADMIN)).json()
    quarantine = world.expected["quarantine"]
    assert quarantine, "the world must exercise the quarantine"
    # dbt names its rules itself; the counts per resource are what the oracle fixes.
    by_resource: dict[str, int] = defaultdict(int)
    for q in quarantine:
        by_resource[q["resource"]] += 1
    got: dict[str, int] = defaultdict(int)
    for rule in body["rules"]:
        got[rule["resource"]] += rule["quarantined_rows"]
    assert got == by_resource
    resources = {r["resource"]: r for r in body["resources"]}
    recovery_lines = sum(len(u.records("recovery")) for u in world.users)
    assert resources["recovery"]["loaded_rows"] == recovery_lines
    assert resources["recovery"]["quarantined_rows"] == by_resource["recovery"]
    assert all(r["age_hours"] is not None and r["age_hours"] < 1 for r in body["resources"])
    assert body["quarantined_files_count"] == 1
    assert body["quarantined_files"][0]["blob_path"] == world.broken_blob
    gold = {g["table"]: g for g in body["gold_tables"]}
    assert gold["fact_daily_recovery"]["row_count"] == len(world.expected["fact_daily_recovery"])
    html = (await client.get("/quality", headers=ADMIN)).text
    assert world.broken_blob in html and "recovery_score" in html


async def test_member_reads_only_their_own_data(
    client: httpx.AsyncClient, world: GoldWorld
) -> None:
    own, other = world.users[0].user_id, world.users[1].user_id
    member = {"X-API-Key": MEMBER_KEYS[0]}
    assert (await client.get(f"/api/v1/users/{own}/overview", headers=member)).status_code == 200
    for path in (
        f"/api/v1/users/{other}/overview",
        f"/api/v1/users/{other}/sleep",
        f"/api/v1/users/{other}/workouts",
        f"/api/v1/users/{other}/aggregates/weekly",
        "/api/v1/data-quality",
        f"/users/{other}",
        "/quality",
    ):
        assert (await client.get(path, headers=member)).status_code == 403, path
    listed = (await client.get("/api/v1/users", headers=member)).json()["users"]
    assert [u["user_id"] for u in listed] == [own]
    assert (await client.get("/api/v1/users")).status_code == 401


async def test_browser_login_sets_a_cookie_and_redirects_to_own_page(
    client: httpx.AsyncClient, world: GoldWorld
) -> None:
    own = world.users[1].user_id
    assert (await client.get("/")).headers["location"].startswith("/login")
    bad = await client.post("/login", data={"api_key": "nope", "next": "/"})
    assert bad.status_code == 401 and "Unknown API key" in bad.text
    ok = await client.post("/login", data={"api_key": MEMBER_KEYS[1], "next": "https://evil/"})
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert "httponly" in ok.headers["set-cookie"].lower()
    index = await client.get("/")
    assert index.status_code == 303 and index.headers["location"] == f"/users/{own}"


async def test_member_without_data_gets_a_friendly_empty_state(client: httpx.AsyncClient) -> None:
    member = {"X-API-Key": EMPTY_MEMBER_KEY}
    for path in ("overview", "sleep", "workouts", "aggregates/monthly"):
        response = await client.get(f"/api/v1/users/{NO_DATA_USER}/{path}", headers=member)
        assert response.status_code == 200, path
        assert response.json()["has_data"] is False
        assert str(NO_DATA_USER) in response.json()["message"]
    page = await client.get(f"/users/{NO_DATA_USER}", headers=member)
    assert page.status_code == 200 and 'id="empty-state"' in page.text


async def test_fresh_platform_without_any_table_shows_empty_states(tmp_path, world) -> None:
    app = create_app(dashboard_settings(world.users), warehouse=empty_warehouse(tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dashboard"
    ) as c:
        uid = world.users[0].user_id
        for path in (f"/users/{uid}", f"/users/{uid}/sleep", f"/users/{uid}/workouts"):
            page = await c.get(path, headers=ADMIN)
            assert page.status_code == 200 and 'id="empty-state"' in page.text, path
        for path in (f"/users/{uid}/trends", "/quality", "/"):
            assert (await c.get(path, headers=ADMIN)).status_code == 200, path
        dq = (await c.get("/api/v1/data-quality", headers=ADMIN)).json()
        assert dq["has_data"] is False and dq["message"]


def test_csv_export_writes_every_gold_table_with_the_model_columns(
    world: GoldWorld, tmp_path
) -> None:
    from dashboard.export import export_gold_csv

    uid = world.users[0].user_id
    written = export_gold_csv(world.warehouse, tmp_path, user_ids=[uid])
    assert written["fact_daily_recovery"] == len(world.rows("fact_daily_recovery", uid))
    assert written["dim_sleep_stage"] == 4  # Light, Deep, REM, Awake; no user_key: not filtered
    with (tmp_path / "fact_workouts.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:3] == ["workout_id", "user_key", "date_key"]
    assert {int(r["user_key"]) for r in rows} == {uid}
    zones = json.loads(rows[0]["zone_duration_minutes"])
    assert len(zones) == 5


def test_cli_export_csv_reads_the_configured_warehouse(world: GoldWorld, tmp_path) -> None:
    from typer.testing import CliRunner

    from wdp_cli.main import app

    # Exports read what readers see: the published, audited gold (the transformer publishes
    # after its audit passes; here the fixture's gold is published directly).
    gold = [
        f"gold.{r['t']}"
        for r in world.warehouse.query(
            "select table_name as t from information_schema.tables "
            "where table_schema = 'gold' and table_type = 'BASE TABLE'"
        )
    ]
    world.warehouse.publish(gold)
    result = CliRunner().invoke(
        app,
        ["dashboard", "export-csv", "--out", str(tmp_path / "out")],
        env={"WDP_DUCKDB_PATH": str(world.warehouse.path), "WDP_WAREHOUSE": "duckdb"},
    )
    assert result.exit_code == 0, result.output
    recoveries = len(world.expected["fact_daily_recovery"])
    assert f"fact_daily_recovery: {recoveries} rows" in result.output
    assert (tmp_path / "out" / "mart_data_quality.csv").exists()
