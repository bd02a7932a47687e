"""Turn warehouse rows (plain dicts with gold column names) into the response models.

Everything here is a pure function of its inputs, so the unit tests pin the page logic
(bands, windows, the prediction/anomaly alignment, stage ordering) without a warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dashboard.domain.models import (
    BAND_COLOURS,
    ActivitySummary,
    AggregatesResponse,
    Band,
    DataQualityResponse,
    GoldTableFreshness,
    NextDayPrediction,
    OverviewResponse,
    Period,
    PeriodAggregate,
    QuarantinedFile,
    QuarantinedLines,
    RecoveryCard,
    ResourceQuality,
    RuleQuality,
    SleepCard,
    SleepNight,
    SleepResponse,
    SleepStage,
    StrainCard,
    TrendPoint,
    WorkoutItem,
    WorkoutsResponse,
)

Row = Mapping[str, Any]

#: ``dim_sleep_stage.sleep_stage_name`` → the ``fact_sleep`` column with that stage's minutes.
STAGE_COLUMNS: dict[str, str] = {
    "Awake": "awake_minutes",
    "Light": "light_sleep_minutes",
    "Deep": "deep_sleep_minutes",
    "REM": "rem_sleep_minutes",
}
STAGE_COLOURS: dict[str, str] = {
    "Awake": "#c9ccd1",
    "Light": "#7fb2ff",
    "Deep": "#3b5bdb",
    "REM": "#b36bff",
}
#: Used when ``dim_sleep_stage`` is not built yet; same content as the dbt model.
DEFAULT_STAGES: tuple[tuple[str, bool, int], ...] = (
    ("Awake", False, 1),
    ("Light", True, 2),
    ("Deep", True, 3),
    ("REM", True, 4),
)
UNKNOWN_ACTIVITY_KEY = -1


def key_to_date(date_key: int) -> date:
    """``YYYYMMDD`` → date."""
    key = int(date_key)
    return date(key // 10000, key // 100 % 100, key % 100)


def date_to_key(day: date) -> int:
    """date → ``YYYYMMDD``."""
    return day.year * 10000 + day.month * 100 + day.day


def recovery_band(score: float) -> Band:
    """The data model's bands: red < 34, yellow 34–66, green ≥ 67."""
    if score < 34:
        return "red"
    if score < 67:
        return "yellow"
    return "green"


def window(end: date, days: int) -> tuple[date, date]:
    """The ``days``-long window ending on ``end`` (inclusive both ends)."""
    return end - timedelta(days=days - 1), end


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any, default: int = 0) -> int:
    return default if value is None else int(value)


def no_data_message(user_id: int, what: str) -> str:
    """The friendly empty state: say what is missing and what makes it appear."""
    return (
        f"No {what} for user {user_id} yet. Data appears here after the member's first sync "
        "has been loaded and transformed (the pipeline runs on every WHOOP webhook)."
    )


def choose_model(available: Iterable[str], preference: Sequence[str]) -> str | None:
    """The first preferred model the user has predictions from, else the alphabetically first."""
    names = set(available)
    for name in preference:
        if name in names:
            return name
    return min(names) if names else None


def build_overview(
    user_id: int,
    *,
    latest_recovery: Row | None,
    latest_strain: Row | None,
    latest_sleep: Row | None,
    recoveries: Sequence[Row],
    predictions: Sequence[Row],
    trend_days: int,
    model_preference: Sequence[str],
) -> OverviewResponse:
    """Cards, the trend window with predictions and anomalies, and tomorrow's prediction.

    Args:
        latest_recovery / latest_strain / latest_sleep: newest row of each fact (or None).
        recoveries: ``fact_daily_recovery`` rows of the trend window.
        predictions: ``fact_predictions`` rows from the window start on (every model).
        trend_days: window length, ending on the latest recovery day.
        model_preference: see :func:`choose_model`.
    """
    if latest_recovery is None and latest_strain is None and latest_sleep is None:
        return OverviewResponse(
            user_id=user_id, has_data=False, message=no_data_message(user_id, "recovery data")
        )
    recovery_card = None
    if latest_recovery is not None:
        score = float(latest_recovery["recovery_score"])
        band = recovery_band(score)
        recovery_card = RecoveryCard(
            day=key_to_date(latest_recovery["date_key"]),
            recovery_score=score,
            recovery_band=band,
            band_colour=BAND_COLOURS[band],
            hrv_rmssd_ms=_float(latest_recovery.get("hrv_rmssd_ms")),
            resting_heart_rate_bpm=_float(latest_recovery.get("resting_heart_rate_bpm")),
            spo2_percentage=_float(latest_recovery.get("spo2_percentage")),
            skin_temp_celsius=_float(latest_recovery.get("skin_temp_celsius")),
            user_calibrating=latest_recovery.get("user_calibrating"),
        )
    strain_card = None
    if latest_strain is not None:
        strain_card = StrainCard(
            day=key_to_date(latest_strain["date_key"]),
            day_strain_score=float(latest_strain["day_strain_score"]),
            calories_burned=_float(latest_strain.get("calories_burned")),
            avg_heart_rate_bpm=_float(latest_strain.get("avg_heart_rate_bpm")),
            max_heart_rate_bpm=_float(latest_strain.get("max_heart_rate_bpm")),
        )
    sleep_card = None
    if latest_sleep is not None:
        sleep_card = SleepCard(
            day=key_to_date(latest_sleep["date_key"]),
            total_sleep_minutes=_float(latest_sleep.get("total_sleep_minutes")),
            in_bed_minutes=_float(latest_sleep.get("in_bed_minutes")),
            sleep_performance_pct=_float(latest_sleep.get("sleep_performance_pct")),
            sleep_efficiency_pct=_float(latest_sleep.get("sleep_efficiency_pct")),
            respiratory_rate=_float(latest_sleep.get("respiratory_rate")),
        )
    if recovery_card is None:
        return OverviewResponse(
            user_id=user_id,
            has_data=True,
            message=no_data_message(user_id, "scored recovery"),
            strain=strain_card,
            sleep=sleep_card,
        )

    start, end = window(recovery_card.day, trend_days)
    model = choose_model((str(p["model_name"]) for p in predictions), model_preference)
    by_target: dict[date, Row] = {
        key_to_date(p["date_key"]): p for p in predictions if p["model_name"] == model
    }
    by_day = {key_to_date(r["date_key"]): r for r in recoveries}
    points: list[TrendPoint] = []
    anomalies: list[date] = []
    day = start
    while day <= end:
        rec = by_day.get(day)
        pred = by_target.get(day)
        # The row for tomorrow carries today's anomaly flags (see docs/ml.md).
        flags = by_target.get(day + timedelta(days=1))
        is_anomaly = bool(flags is not None and flags.get("is_anomaly"))
        if is_anomaly:
            anomalies.append(day)
        score_value = _float(rec["recovery_score"]) if rec is not None else None
        points.append(
            TrendPoint(
                day=day,
                recovery_score=score_value,
                recovery_band=recovery_band(score_value) if score_value is not None else None,
                predicted_recovery=_float(pred.get("predicted_recovery")) if pred else None,
                lower_80=_float(pred.get("lower_80")) if pred else None,
                upper_80=_float(pred.get("upper_80")) if pred else None,
                is_anomaly=is_anomaly,
                anomaly_score=_float(flags.get("anomaly_score")) if flags else None,
                anomaly_reasons=(str(flags.get("anomaly_reasons") or "") or None)
                if is_anomaly and flags
                else None,
            )
        )
        day += timedelta(days=1)
    next_day = None
    future = sorted(d for d in by_target if d > end)
    if future and by_target[future[0]].get("predicted_recovery") is not None:
        row = by_target[future[0]]
        next_day = NextDayPrediction(
            day=future[0],
            predicted_recovery=float(row["predicted_recovery"]),
            lower_80=_float(row.get("lower_80")),
            upper_80=_float(row.get("upper_80")),
            model_name=str(row["model_name"]),
            model_version=str(row.get("model_version") or ""),
        )
    return OverviewResponse(
        user_id=user_id,
        has_data=True,
        recovery=recovery_card,
        strain=strain_card,
        sleep=sleep_card,
        trend_start=start,
        trend_end=end,
        trend=points,
        prediction_model=model,
        next_day=next_day,
        anomaly_days=anomalies,
    )


def build_stages(rows: Sequence[Row]) -> list[SleepStage]:
    """``dim_sleep_stage`` rows (or the defaults) in display order, with their columns."""
    source = (
        [(str(r["sleep_stage_name"]), bool(r["is_asleep"]), int(r["sort_order"])) for r in rows]
        if rows
        else list(DEFAULT_STAGES)
    )
    return [
        SleepStage(
            sleep_stage_name=name,
            column=STAGE_COLUMNS[name],
            is_asleep=asleep,
            sort_order=order,
            colour=STAGE_COLOURS.get(name, "#999999"),
        )
        for name, asleep, order in sorted(source, key=lambda s: s[2])
        if name in STAGE_COLUMNS
    ]


def build_sleep(
    user_id: int,
    *,
    sleeps: Sequence[Row],
    stage_rows: Sequence[Row],
    window_start: date | None,
    window_end: date | None,
) -> SleepResponse:
    """Stage minutes per night (oldest first) and averages over main sleeps."""
    stages = build_stages(stage_rows)
    if not sleeps:
        return SleepResponse(
            user_id=user_id,
            has_data=False,
            message=no_data_message(user_id, "sleep"),
            stages=stages,
        )
    nights = [
        SleepNight(
            day=key_to_date(s["date_key"]),
            sleep_id=str(s["sleep_id"]),
            is_nap=bool(s["is_nap"]),
            score_state=str(s.get("score_state") or "SCORED"),
            start_at_local=s.get("start_at_local"),
            end_at_local=s.get("end_at_local"),
            stage_minutes={st.sleep_stage_name: float(s.get(st.column) or 0.0) for st in stages},
            total_sleep_minutes=_float(s.get("total_sleep_minutes")),
            in_bed_minutes=_float(s.get("in_bed_minutes")),
            sleep_efficiency_pct=_float(s.get("sleep_efficiency_pct")),
            sleep_performance_pct=_float(s.get("sleep_performance_pct")),
        )
        for s in sorted(sleeps, key=lambda r: (r["date_key"], r.get("sleep_start_timestamp") or 0))
    ]
    main = [n for n in nights if not n.is_nap]
    # an unscored sleep has no stage minutes: it must not pull the averages towards zero
    scored = [n for n in main if n.score_state == "SCORED"]
    averages = (
        {
            st.sleep_stage_name: sum(n.stage_minutes[st.sleep_stage_name] for n in scored)
            / len(scored)
            for st in stages
        }
        if scored
        else {}
    )
    asleep = [n.total_sleep_minutes for n in main if n.total_sleep_minutes is not None]
    return SleepResponse(
        user_id=user_id,
        has_data=True,
        window_start=window_start,
        window_end=window_end,
        stages=stages,
        nights=nights,
        main_sleep_count=len(main),
        nap_count=len(nights) - len(main),
        average_stage_minutes=averages,
        average_asleep_minutes=sum(asleep) / len(asleep) if asleep else None,
    )


def build_workouts(
    user_id: int,
    *,
    workouts: Sequence[Row],
    activity_types: Mapping[int, Row],
    window_start: date | None,
    window_end: date | None,
    recent_limit: int = 20,
) -> WorkoutsResponse:
    """Workouts grouped by ``dim_activity_type`` (most minutes first) plus the newest ones."""
    if not workouts:
        return WorkoutsResponse(
            user_id=user_id, has_data=False, message=no_data_message(user_id, "workouts")
        )
    groups: dict[int, list[Row]] = {}
    for w in workouts:
        groups.setdefault(_int(w.get("activity_type_key"), UNKNOWN_ACTIVITY_KEY), []).append(w)
    summaries: list[ActivitySummary] = []
    for key, rows in groups.items():
        dim = activity_types.get(key)
        strains = [float(r["strain_score"]) for r in rows if r.get("strain_score") is not None]
        kcal = [float(r["calories_burned"]) for r in rows if r.get("calories_burned") is not None]
        summaries.append(
            ActivitySummary(
                activity_type_key=key,
                activity_name=(
                    str(dim["activity_name"]) if dim else str(rows[0].get("sport_name"))
                ),
                activity_category=str(dim["activity_category"]) if dim else "other",
                workout_count=len(rows),
                total_minutes=sum(float(r["duration_minutes"]) for r in rows),
                average_strain=sum(strains) / len(strains) if strains else None,
                total_calories_burned=sum(kcal) if kcal else None,
            )
        )
    summaries.sort(key=lambda s: (-s.total_minutes, s.activity_name))
    newest = sorted(workouts, key=lambda r: r["workout_start_timestamp"], reverse=True)[
        :recent_limit
    ]
    recent = [
        WorkoutItem(
            workout_id=str(w["workout_id"]),
            day=key_to_date(w["date_key"]),
            activity_type_key=_int(w.get("activity_type_key"), UNKNOWN_ACTIVITY_KEY),
            activity_name=_sport_display(w, activity_types),
            score_state=str(w.get("score_state") or "SCORED"),
            duration_minutes=float(w["duration_minutes"]),
            strain_score=_float(w.get("strain_score")),
            avg_heart_rate_bpm=_float(w.get("avg_heart_rate_bpm")),
            calories_burned=_float(w.get("calories_burned")),
        )
        for w in newest
    ]
    return WorkoutsResponse(
        user_id=user_id,
        has_data=True,
        window_start=window_start,
        window_end=window_end,
        total_count=len(workouts),
        total_minutes=sum(float(w["duration_minutes"]) for w in workouts),
        by_activity=summaries,
        recent=recent,
    )


def _sport_display(workout: Row, activity_types: Mapping[int, Row]) -> str:
    dim = activity_types.get(_int(workout.get("activity_type_key"), UNKNOWN_ACTIVITY_KEY))
    return str(dim["activity_name"]) if dim else str(workout.get("sport_name"))


def build_aggregates(user_id: int, period: Period, rows: Sequence[Row]) -> AggregatesResponse:
    """Weekly or monthly aggregate rows, oldest first."""
    if not rows:
        return AggregatesResponse(
            user_id=user_id,
            period=period,
            has_data=False,
            message=no_data_message(user_id, f"{period} aggregates"),
        )
    start_col = "week_start_date" if period == "weekly" else "month_start_date"
    key_col = f"{start_col}_key"
    out = [
        PeriodAggregate(
            period_start=(
                r[start_col] if r.get(start_col) is not None else key_to_date(r[key_col])
            ),
            avg_recovery_score=_float(r.get("avg_recovery_score")),
            avg_hrv_rmssd_ms=_float(r.get("avg_hrv_rmssd_ms")),
            avg_resting_heart_rate_bpm=_float(r.get("avg_resting_heart_rate_bpm")),
            avg_day_strain_score=_float(r.get("avg_day_strain_score")),
            avg_total_sleep_minutes=_float(r.get("avg_total_sleep_minutes")),
            workout_count=_int(r.get("workout_count")),
            workout_minutes=float(r.get("workout_minutes") or 0.0),
        )
        for r in rows
    ]
    out.sort(key=lambda a: a.period_start)
    return AggregatesResponse(user_id=user_id, period=period, has_data=True, rows=out)


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def build_data_quality(
    *,
    mart_rows: Sequence[Row],
    quarantine_files: Sequence[Row],
    quarantine_file_count: int,
    gold_tables: Sequence[Row],
    now: datetime,
    quarantined_lines: Sequence[Row] = (),
) -> DataQualityResponse:
    """Per-resource totals, per-rule quarantine counts, file quarantine and gold freshness.

    Args:
        mart_rows: every ``mart_data_quality`` row.
        quarantine_files: newest ``bronze.quarantine_files`` rows (already limited).
        quarantine_file_count: total quarantined files.
        gold_tables: ``{"table", "row_count", "latest_date_key"}`` per gold fact.
        quarantined_lines: ``{"resource", "reason", "line_count"}`` of unparseable lines.
        now: the reference instant for ``age_hours`` (UTC).
    """
    now_naive = _naive_utc(now)
    totals: dict[str, dict[str, Any]] = {}
    rules: dict[tuple[str, str], int] = {}
    for r in mart_rows:
        resource = str(r["resource"])
        if r["rule"] == "all":
            t = totals.setdefault(
                resource,
                {"loaded": 0, "tombstoned": 0, "quarantined": 0, "last": None, "fresh": None},
            )
            t["loaded"] += _int(r.get("loaded_rows"))
            t["tombstoned"] += _int(r.get("tombstoned_rows"))
            t["quarantined"] += _int(r.get("quarantined_rows"))
            last = r.get("last_loaded_at")
            if last is not None and (t["last"] is None or last > t["last"]):
                t["last"] = last
                t["fresh"] = _float(r.get("freshness_hours"))
        else:
            k = (resource, str(r["rule"]))
            rules[k] = rules.get(k, 0) + _int(r.get("quarantined_rows"))
    resources = [
        ResourceQuality(
            resource=name,
            loaded_rows=t["loaded"],
            tombstoned_rows=t["tombstoned"],
            quarantined_rows=t["quarantined"],
            last_loaded_at=t["last"],
            freshness_hours=t["fresh"],
            age_hours=(
                (now_naive - _naive_utc(t["last"])).total_seconds() / 3600
                if t["last"] is not None
                else None
            ),
        )
        for name, t in sorted(totals.items())
    ]
    rule_models = [
        RuleQuality(resource=res, rule=rule, quarantined_rows=count)
        for (res, rule), count in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    files = [
        QuarantinedFile(
            blob_path=str(f["blob_path"]),
            reason=f.get("reason"),
            quarantined_at=f.get("quarantined_at"),
        )
        for f in quarantine_files
    ]
    gold = [
        GoldTableFreshness(
            table=str(g["table"]),
            row_count=_int(g.get("row_count")),
            latest_day=(
                key_to_date(g["latest_date_key"]) if g.get("latest_date_key") is not None else None
            ),
        )
        for g in gold_tables
    ]
    lines = [
        QuarantinedLines(
            resource=str(q["resource"]), reason=str(q["reason"]), line_count=_int(q["line_count"])
        )
        for q in quarantined_lines
    ]
    has_data = bool(resources or files or lines or any(g.row_count for g in gold))
    return DataQualityResponse(
        has_data=has_data,
        message=None
        if has_data
        else "Nothing loaded yet: the data-quality mart fills after the first load and dbt run.",
        generated_at=now_naive,
        resources=resources,
        rules=rule_models,
        quarantined_files_count=quarantine_file_count,
        quarantined_files=files,
        quarantined_lines=lines,
        gold_tables=gold,
    )
