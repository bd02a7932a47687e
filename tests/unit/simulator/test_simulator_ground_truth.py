"""Ground truth: gold rows follow docs/data-model.md and track re-scores and deletes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from conftest import ADMIN, authorize, bearer
from fastapi.testclient import TestClient

from whoop_simulator.generator import generate_user
from whoop_simulator.ground_truth import (
    anomaly_days,
    date_key,
    day_of_cycle,
    day_of_sleep,
    day_of_workout,
    expected_gold,
)
from whoop_simulator.timeutil import parse_tzd

#: gold columns (dbt contracts) but load_timestamp, which only the loader knows
DOC_COLUMNS = {
    "fact_daily_recovery": (
        "recovery_id, user_key, date_key, cycle_id, sleep_id, recovery_score, "
        "recovery_band, hrv_rmssd_ms, resting_heart_rate_bpm, spo2_percentage, "
        "skin_temp_celsius, user_calibrating, updated_at"
    ),
    "fact_sleep": (
        "sleep_id, user_key, date_key, cycle_id, is_nap, score_state, "
        "sleep_start_timestamp, sleep_end_timestamp, start_at_local, end_at_local, "
        "timezone_offset, in_bed_minutes, awake_minutes, light_sleep_minutes, "
        "deep_sleep_minutes, rem_sleep_minutes, no_data_minutes, total_sleep_minutes, "
        "sleep_efficiency_pct, sleep_performance_pct, sleep_consistency_pct, "
        "respiratory_rate, disturbance_count, sleep_cycle_count, sleep_needed_minutes, "
        "sleep_debt_minutes, updated_at"
    ),
    "fact_strain": (
        "strain_id, user_key, date_key, cycle_id, cycle_count, cycle_start_timestamp, "
        "cycle_end_timestamp, is_open, timezone_offset, score_state, day_strain_score, "
        "kilojoule, calories_burned, avg_heart_rate_bpm, max_heart_rate_bpm, updated_at"
    ),
    "fact_workouts": (
        "workout_id, user_key, date_key, activity_type_key, sport_name, score_state, "
        "workout_start_timestamp, workout_end_timestamp, duration_minutes, "
        "strain_score, avg_heart_rate_bpm, max_heart_rate_bpm, kilojoule, "
        "calories_burned, percent_recorded, distance_meters, altitude_gain_meters, "
        "altitude_change_meters, zone_zero_minutes, zone_duration_minutes, updated_at"
    ),
}


def test_columns_are_exactly_the_documented_ones() -> None:
    gold = expected_gold(generate_user(1, 0, date(2024, 1, 1), 120))
    for table, cols in DOC_COLUMNS.items():
        assert gold[table], table
        for row in gold[table]:
            assert list(row) == [c.strip() for c in cols.split(",")], table


def test_day_assignment_rules() -> None:
    d = day_of_sleep({"end": "2025-03-12T06:30:00.000Z", "timezone_offset": "-07:00"})
    assert d == date(2025, 3, 11)
    assert day_of_workout(
        {"start": "2025-03-12T23:30:00.000Z", "timezone_offset": "+02:00"}
    ) == date(2025, 3, 13)
    cycle = {"start": "2025-03-11T20:00:00.000Z", "timezone_offset": "Z"}
    assert day_of_cycle(cycle, None) == date(2025, 3, 12)
    assert date_key(date(2025, 3, 2)) == 20250302


def test_gold_is_consistent_with_records() -> None:
    u = generate_user(3, 1, date(2024, 1, 1), 200)
    gold = expected_gold(u)
    sleeps = {s["id"]: s for s in u.sleeps}
    rec_rows = gold["fact_daily_recovery"]
    assert len({r["cycle_id"] for r in rec_rows}) == len(rec_rows)
    for row in rec_rows:
        assert row["date_key"] == date_key(day_of_sleep(sleeps[row["sleep_id"]]))
        band = row["recovery_band"]
        s = row["recovery_score"]
        assert band == ("red" if s < 34 else "yellow" if s < 67 else "green")
    for row in gold["fact_sleep"]:
        if row["score_state"] != "SCORED":
            assert row["total_sleep_minutes"] is None
            continue
        assert (
            abs(
                row["total_sleep_minutes"]
                - (
                    row["light_sleep_minutes"]
                    + row["deep_sleep_minutes"]
                    + row["rem_sleep_minutes"]
                )
            )
            < 1e-9
        )
        offset = timedelta(minutes=parse_tzd(row["timezone_offset"]))
        assert row["end_at_local"] - row["sleep_end_timestamp"] == offset
        assert row["start_at_local"] - row["sleep_start_timestamp"] == offset
    strain = gold["fact_strain"]
    assert sum(r["is_open"] for r in strain) == 1 and strain[-1]["cycle_end_timestamp"] is None
    keys = [(r["user_key"], r["date_key"]) for r in strain]
    assert len(keys) == len(set(keys))  # one row per user and day (the strain day rule)
    assert sum(r["cycle_count"] for r in strain) == len(u.cycles)
    nap_rows = [r for r in gold["fact_sleep"] if r["is_nap"]]
    assert nap_rows
    for w in gold["fact_workouts"]:
        start = w["workout_start_timestamp"]
        assert isinstance(start, datetime) and start.tzinfo is None
        if w["score_state"] != "SCORED":
            assert w["zone_duration_minutes"] is None and w["strain_score"] is None
            continue
        assert len(w["zone_duration_minutes"]) == 5
        assert abs(w["calories_burned"] - w["kilojoule"] / 4.184) < 1e-9


def test_anomaly_days_are_illness_days() -> None:
    u = generate_user(7, 0, date(2022, 1, 1), 3 * 365)
    days = anomaly_days(u)
    assert days and all(isinstance(d, date) for d in days)
    ill = [e for e in u.events if e.kind == "illness"]
    assert len(days) == sum((e.last_day - e.first_day).days + 1 for e in ill)
    assert all(3 <= (e.last_day - e.first_day + timedelta(days=1)).days <= 7 for e in ill)


def test_ground_truth_follows_admin_rescore_and_delete(
    client_factory: Callable[..., TestClient],
) -> None:
    c = client_factory()
    tok = bearer(authorize(c))
    work = c.get("/developer/v2/activity/workout", headers=tok, params={"limit": 25}).json()
    scored = [w for w in work["records"] if w["score_state"] == "SCORED"]
    before = c.get("/admin/ground-truth/10100", headers=ADMIN).json()["gold"]["fact_workouts"]
    r = c.post(f"/admin/records/workout/10100/{scored[0]['id']}/rescore", headers=ADMIN).json()
    c.delete(f"/admin/records/workout/10100/{scored[1]['id']}", headers=ADMIN)
    after = c.get("/admin/ground-truth/10100", headers=ADMIN).json()["gold"]["fact_workouts"]
    by_id = {w["workout_id"]: w for w in after}
    assert scored[1]["id"] not in by_id and len(after) == len(before) - 1
    assert by_id[scored[0]["id"]]["strain_score"] == r["score"]["strain"]
    assert by_id[scored[0]["id"]]["updated_at"].startswith(r["updated_at"][:19])
    assert c.get("/admin/ground-truth/999", headers=ADMIN).status_code == 404
