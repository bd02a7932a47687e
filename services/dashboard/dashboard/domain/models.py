"""Typed response models: the JSON API returns them and the HTML pages render them.

One model per page keeps the page and its API endpoint in lock-step: the page is a view of
exactly the JSON a client would get.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Band = Literal["red", "yellow", "green"]
Period = Literal["weekly", "monthly"]

#: WHOOP's own band colours, so members recognise them at a glance.
BAND_COLOURS: dict[str, str] = {"red": "#ff0026", "yellow": "#ffde00", "green": "#16ec06"}


class Health(BaseModel):
    """``/healthz``: the process serves requests (the warehouse is not probed)."""

    status: Literal["ok"] = "ok"


class UserSummary(BaseModel):
    """One member the caller may read, with the span of their recovery history."""

    user_id: int
    first_day: date | None = None
    last_day: date | None = None
    recovery_days: int = 0


class UsersResponse(BaseModel):
    """``/api/v1/users``."""

    users: list[UserSummary]
    message: str | None = None


class RecoveryCard(BaseModel):
    """The latest scored recovery."""

    day: date
    recovery_score: float
    recovery_band: Band
    band_colour: str
    hrv_rmssd_ms: float | None
    resting_heart_rate_bpm: float | None
    spo2_percentage: float | None = None
    skin_temp_celsius: float | None = None
    user_calibrating: bool | None = None


class StrainCard(BaseModel):
    """The latest scored cycle (day strain)."""

    day: date
    day_strain_score: float
    calories_burned: float | None = None
    avg_heart_rate_bpm: float | None = None
    max_heart_rate_bpm: float | None = None


class SleepCard(BaseModel):
    """The latest main (non-nap) sleep."""

    day: date
    total_sleep_minutes: float | None
    in_bed_minutes: float | None = None
    sleep_performance_pct: float | None = None
    sleep_efficiency_pct: float | None = None
    respiratory_rate: float | None = None


class TrendPoint(BaseModel):
    """One day of the recovery trend.

    ``predicted_recovery`` and its interval come from the prediction *for* this day (made the
    evening before); ``is_anomaly`` and its reasons describe this day's own physiology (the
    scorer stores them on the next day's prediction row).
    """

    day: date
    recovery_score: float | None = None
    recovery_band: Band | None = None
    predicted_recovery: float | None = None
    lower_80: float | None = None
    upper_80: float | None = None
    is_anomaly: bool = False
    anomaly_score: float | None = None
    anomaly_reasons: str | None = None


class NextDayPrediction(BaseModel):
    """Tomorrow's predicted recovery with its 80 % interval."""

    day: date
    predicted_recovery: float
    lower_80: float | None
    upper_80: float | None
    model_name: str
    model_version: str


class OverviewResponse(BaseModel):
    """``/api/v1/users/{user_id}/overview``."""

    user_id: int
    has_data: bool
    message: str | None = None
    recovery: RecoveryCard | None = None
    strain: StrainCard | None = None
    sleep: SleepCard | None = None
    trend_start: date | None = None
    trend_end: date | None = None
    trend: list[TrendPoint] = Field(default_factory=list)
    prediction_model: str | None = None
    next_day: NextDayPrediction | None = None
    anomaly_days: list[date] = Field(default_factory=list)


class SleepStage(BaseModel):
    """A stage from ``dim_sleep_stage`` and the ``fact_sleep`` column holding its minutes."""

    sleep_stage_name: str
    column: str
    is_asleep: bool
    sort_order: int
    colour: str


class SleepNight(BaseModel):
    """One sleep (naps flagged; an unscored one has no minutes or scores)."""

    day: date
    sleep_id: str
    is_nap: bool
    score_state: str = "SCORED"
    start_at_local: datetime | None = None
    end_at_local: datetime | None = None
    stage_minutes: dict[str, float]
    total_sleep_minutes: float | None = None
    in_bed_minutes: float | None = None
    sleep_efficiency_pct: float | None = None
    sleep_performance_pct: float | None = None


class SleepResponse(BaseModel):
    """``/api/v1/users/{user_id}/sleep``."""

    user_id: int
    has_data: bool
    message: str | None = None
    window_start: date | None = None
    window_end: date | None = None
    stages: list[SleepStage] = Field(default_factory=list)
    nights: list[SleepNight] = Field(default_factory=list)
    main_sleep_count: int = 0
    nap_count: int = 0
    average_stage_minutes: dict[str, float] = Field(
        default_factory=dict, description="per stage, over main sleeps only"
    )
    average_asleep_minutes: float | None = None


class ActivitySummary(BaseModel):
    """Workouts of one activity type (``dim_activity_type``) in the window."""

    activity_type_key: int
    activity_name: str
    activity_category: str
    workout_count: int
    total_minutes: float
    average_strain: float | None
    total_calories_burned: float | None


class WorkoutItem(BaseModel):
    """One workout, newest first."""

    workout_id: str
    day: date
    activity_type_key: int
    activity_name: str
    score_state: str = "SCORED"
    duration_minutes: float
    strain_score: float | None = None
    avg_heart_rate_bpm: float | None = None
    calories_burned: float | None = None


class WorkoutsResponse(BaseModel):
    """``/api/v1/users/{user_id}/workouts``."""

    user_id: int
    has_data: bool
    message: str | None = None
    window_start: date | None = None
    window_end: date | None = None
    total_count: int = 0
    total_minutes: float = 0.0
    by_activity: list[ActivitySummary] = Field(default_factory=list)
    recent: list[WorkoutItem] = Field(default_factory=list)


class PeriodAggregate(BaseModel):
    """One row of ``agg_weekly_user`` / ``agg_monthly_user``."""

    period_start: date
    avg_recovery_score: float | None = None
    avg_hrv_rmssd_ms: float | None = None
    avg_resting_heart_rate_bpm: float | None = None
    avg_day_strain_score: float | None = None
    avg_total_sleep_minutes: float | None = None
    workout_count: int = 0
    workout_minutes: float = 0.0


class AggregatesResponse(BaseModel):
    """``/api/v1/users/{user_id}/aggregates/{period}`` (oldest first)."""

    user_id: int
    period: Period
    has_data: bool
    message: str | None = None
    rows: list[PeriodAggregate] = Field(default_factory=list)


class ResourceQuality(BaseModel):
    """Totals of ``mart_data_quality`` rule ``all`` for one resource."""

    resource: str
    loaded_rows: int
    tombstoned_rows: int
    quarantined_rows: int
    last_loaded_at: datetime | None = None
    freshness_hours: float | None = Field(
        default=None, description="age of the newest load when dbt last ran"
    )
    age_hours: float | None = Field(default=None, description="age of the newest load now")


class RuleQuality(BaseModel):
    """Quarantined rows per DQ rule and resource."""

    resource: str
    rule: str
    quarantined_rows: int


class QuarantinedFile(BaseModel):
    """A bronze file the loader could not parse (``bronze.quarantine_files``)."""

    blob_path: str
    reason: str | None = None
    quarantined_at: datetime | None = None


class QuarantinedLines(BaseModel):
    """Bronze lines the loader could not parse, per resource and reason."""

    resource: str
    reason: str
    line_count: int


class GoldTableFreshness(BaseModel):
    """Newest day and row count of one gold fact."""

    table: str
    row_count: int
    latest_day: date | None = None


class DataQualityResponse(BaseModel):
    """``/api/v1/data-quality`` (admin only: the mart has no user dimension)."""

    has_data: bool
    message: str | None = None
    generated_at: datetime
    resources: list[ResourceQuality] = Field(default_factory=list)
    rules: list[RuleQuality] = Field(default_factory=list)
    quarantined_files_count: int = 0
    quarantined_files: list[QuarantinedFile] = Field(default_factory=list)
    quarantined_lines: list[QuarantinedLines] = Field(default_factory=list)
    gold_tables: list[GoldTableFreshness] = Field(default_factory=list)
