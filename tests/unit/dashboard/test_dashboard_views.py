"""Pure view-model logic: bands, windows, prediction/anomaly alignment, grouping, DQ."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dashboard.domain import views
from dashboard.domain.models import BAND_COLOURS


def _key(d: date) -> int:
    return views.date_to_key(d)


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "red"), (33.9, "red"), (34, "yellow"), (66.9, "yellow"), (67, "green"), (100, "green")],
)
def test_recovery_band_boundaries(score: float, band: str) -> None:
    assert views.recovery_band(score) == band


def test_date_keys_round_trip() -> None:
    assert views.key_to_date(20250301) == date(2025, 3, 1)
    assert views.date_to_key(date(2024, 12, 31)) == 20241231


def test_choose_model_prefers_configured_order_then_alphabetical() -> None:
    assert views.choose_model(["baseline", "ridge"], ["ridge", "baseline"]) == "ridge"
    assert views.choose_model(["zeta", "alpha"], ["ridge"]) == "alpha"
    assert views.choose_model([], ["ridge"]) is None


def _recovery(day: date, score: float) -> dict[str, object]:
    return {
        "date_key": _key(day),
        "recovery_score": score,
        "hrv_rmssd_ms": 50.0 + score / 10,
        "resting_heart_rate_bpm": 55.0,
    }


def test_overview_aligns_predictions_by_target_day_and_anomalies_by_observed_day() -> None:
    end = date(2026, 3, 10)
    recs = [_recovery(end - timedelta(days=i), 40.0 + i) for i in range(10)]
    preds = [
        {
            "date_key": _key(end - timedelta(days=i) + timedelta(days=1)),
            "model_name": "baseline_7d_mean",
            "model_version": "1",
            "predicted_recovery": 50.0 + i,
            "lower_80": 30.0 + i,
            "upper_80": 70.0 + i,
            "is_anomaly": i == 3,
            "anomaly_score": 4.2 if i == 3 else 0.0,
            "anomaly_reasons": "hrv_low (z=-4.2)" if i == 3 else "",
        }
        for i in range(10)
    ]
    view = views.build_overview(
        7,
        latest_recovery={**recs[0], "user_calibrating": False},
        latest_strain={"date_key": _key(end), "day_strain_score": 12.5},
        latest_sleep={"date_key": _key(end), "total_sleep_minutes": 420.0},
        recoveries=recs,
        predictions=preds,
        trend_days=14,
        model_preference=["ridge_recovery", "baseline_7d_mean"],
    )
    assert view.recovery is not None and view.recovery.recovery_band == "yellow"
    assert view.recovery.band_colour == BAND_COLOURS["yellow"]
    assert len(view.trend) == 14 and view.trend[-1].day == end
    assert view.trend_start == end - timedelta(days=13)
    # prediction made at end of D-1 for D (i = 1 → target = end)
    assert view.trend[-1].predicted_recovery == 51.0
    # the row for target end-2 (i=3) flags day end-3
    assert view.anomaly_days == [end - timedelta(days=3)]
    flagged = next(p for p in view.trend if p.is_anomaly)
    assert flagged.anomaly_reasons == "hrv_low (z=-4.2)"
    assert view.next_day is not None
    assert view.next_day.day == end + timedelta(days=1)
    assert view.next_day.predicted_recovery == 50.0
    assert (view.next_day.lower_80, view.next_day.upper_80) == (30.0, 70.0)
    # days without a recovery stay in the window as gaps
    assert view.trend[0].recovery_score is None


def test_overview_without_any_row_is_a_friendly_empty_state() -> None:
    view = views.build_overview(
        42,
        latest_recovery=None,
        latest_strain=None,
        latest_sleep=None,
        recoveries=[],
        predictions=[],
        trend_days=90,
        model_preference=[],
    )
    assert view.has_data is False
    assert view.message is not None and "42" in view.message


def test_overview_with_strain_but_no_recovery_yet() -> None:
    view = views.build_overview(
        5,
        latest_recovery=None,
        latest_strain={"date_key": 20260101, "day_strain_score": 3.0},
        latest_sleep=None,
        recoveries=[],
        predictions=[],
        trend_days=90,
        model_preference=[],
    )
    assert view.has_data and view.strain is not None and not view.trend
    assert view.message is not None and "recovery" in view.message


def _sleep(day: date, nap: bool, deep: float) -> dict[str, object]:
    return {
        "date_key": _key(day),
        "sleep_id": f"s-{day}-{nap}",
        "is_nap": nap,
        "score_state": "SCORED",
        "sleep_start_timestamp": datetime(day.year, day.month, day.day, 1 if not nap else 14),
        "awake_minutes": 20.0,
        "light_sleep_minutes": 200.0,
        "deep_sleep_minutes": deep,
        "rem_sleep_minutes": 100.0,
        "no_data_minutes": 0.0,
        "total_sleep_minutes": 300.0 + deep,
    }


def test_sleep_orders_stages_from_the_dimension_and_averages_main_sleeps_only() -> None:
    d = date(2026, 2, 1)
    rows = [_sleep(d, False, 60.0), _sleep(d + timedelta(days=1), False, 100.0)]
    rows.append(_sleep(d + timedelta(days=1), True, 5.0))
    stage_rows = [
        {"sleep_stage_name": "REM", "is_asleep": True, "sort_order": 1},
        {"sleep_stage_name": "Deep", "is_asleep": True, "sort_order": 2},
    ]
    view = views.build_sleep(
        1, sleeps=rows, stage_rows=stage_rows, window_start=d, window_end=d + timedelta(days=1)
    )
    assert [s.sleep_stage_name for s in view.stages] == ["REM", "Deep"]
    assert view.main_sleep_count == 2 and view.nap_count == 1
    assert view.average_stage_minutes["Deep"] == pytest.approx(80.0)
    assert view.average_asleep_minutes == pytest.approx(380.0)


def test_sleep_falls_back_to_the_default_stages() -> None:
    stages = views.build_stages([])
    assert [s.column for s in stages] == [
        "awake_minutes",
        "light_sleep_minutes",
        "deep_sleep_minutes",
        "rem_sleep_minutes",
    ]


def test_unscored_main_sleep_does_not_pull_averages_down() -> None:
    d = date(2026, 2, 1)
    unscored = {
        "date_key": _key(d + timedelta(days=1)),
        "sleep_id": "pending",
        "is_nap": False,
        "score_state": "PENDING_SCORE",
        "sleep_start_timestamp": datetime(2026, 2, 2, 1),
    }
    view = views.build_sleep(
        1, sleeps=[_sleep(d, False, 60.0), unscored], stage_rows=[], window_start=d, window_end=d
    )
    assert view.main_sleep_count == 2
    assert view.average_stage_minutes["Deep"] == pytest.approx(60.0)
    assert view.average_asleep_minutes == pytest.approx(360.0)


def test_workouts_group_by_activity_dimension_with_unknown_fallback() -> None:
    base = datetime(2026, 1, 5, 7)
    rows = [
        {
            "workout_id": f"w{i}",
            "date_key": 20260105,
            "activity_type_key": key,
            "sport_name": slug,
            "workout_start_timestamp": base + timedelta(hours=i),
            "duration_minutes": minutes,
            "strain_score": strain,
            "calories_burned": 100.0,
        }
        for i, (key, slug, minutes, strain) in enumerate(
            [(0, "running", 30.0, 10.0), (0, "running", 50.0, 12.0), (-1, "mystery", 20.0, None)]
        )
    ]
    dims = {
        0: {"activity_name": "Running", "activity_category": "endurance"},
        -1: {"activity_name": "Activity", "activity_category": "other"},
    }
    view = views.build_workouts(
        3, workouts=rows, activity_types=dims, window_start=None, window_end=None
    )
    running, other = view.by_activity
    assert (running.activity_name, running.workout_count, running.total_minutes) == (
        "Running",
        2,
        80.0,
    )
    assert running.average_strain == pytest.approx(11.0)
    assert other.activity_name == "Activity" and other.average_strain is None
    assert [w.workout_id for w in view.recent] == ["w2", "w1", "w0"]
    assert view.total_minutes == 100.0


def test_aggregates_sorted_oldest_first() -> None:
    rows: list[dict[str, object]] = [
        {"week_start_date_key": 20260112, "week_start_date": date(2026, 1, 12), "workout_count": 2},
        {"week_start_date_key": 20260105, "week_start_date": None, "workout_count": 1},
    ]
    view = views.build_aggregates(9, "weekly", rows)
    assert [r.period_start for r in view.rows] == [date(2026, 1, 5), date(2026, 1, 12)]
    assert views.build_aggregates(9, "monthly", []).has_data is False


def test_data_quality_totals_rules_and_age() -> None:
    now = datetime(2026, 1, 2, 12, tzinfo=UTC)
    last = datetime(2026, 1, 2, 9)
    mart = [
        {"resource": "sleep", "rule": "all", "loaded_rows": 10, "tombstoned_rows": 1,
         "quarantined_rows": 2, "last_loaded_at": last, "freshness_hours": 1.0},
        {"resource": "sleep", "rule": "all", "loaded_rows": 5, "tombstoned_rows": 0,
         "quarantined_rows": 1, "last_loaded_at": last - timedelta(days=1),
         "freshness_hours": 25.0},
        {"resource": "sleep", "rule": "hrv_range", "quarantined_rows": 3},
        {"resource": "cycle", "rule": "strain_range", "quarantined_rows": 5},
    ]  # fmt: skip
    view = views.build_data_quality(
        mart_rows=mart,
        quarantine_files=[{"blob_path": "bronze/x.gz", "reason": "bad gzip"}],
        quarantine_file_count=4,
        gold_tables=[{"table": "fact_sleep", "row_count": 12, "latest_date_key": 20260101}],
        now=now,
        quarantined_lines=[{"resource": "sleep", "reason": "invalid json", "line_count": 2}],
    )
    (sleep,) = view.resources
    assert (sleep.loaded_rows, sleep.tombstoned_rows, sleep.quarantined_rows) == (15, 1, 3)
    assert sleep.freshness_hours == 1.0 and sleep.age_hours == pytest.approx(3.0)
    assert [(r.resource, r.quarantined_rows) for r in view.rules] == [("cycle", 5), ("sleep", 3)]
    assert view.quarantined_files_count == 4 and view.gold_tables[0].latest_day == date(2026, 1, 1)
    assert view.quarantined_lines[0].line_count == 2
    assert view.has_data


def test_data_quality_empty_platform_has_a_message() -> None:
    view = views.build_data_quality(
        mart_rows=[], quarantine_files=[], quarantine_file_count=0, gold_tables=[],
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    assert view.has_data is False and view.message
