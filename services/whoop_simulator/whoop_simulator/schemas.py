"""Pydantic models of the WHOOP v2 schemas (API reference §7), strict on purpose.

``extra="forbid"`` and the wire patterns make these a contract check: the simulator's
responses, the reference's example payloads and anything the extractor stores must validate.
Optional fields are ``None`` by default, but serialise with ``exclude_none`` to match WHOOP,
which leaves absent fields out.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

Timestamp = Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
TZD = Annotated[StrictStr, Field(pattern=r"^(Z|[+-]\d{2}:\d{2})$")]
UUIDStr = Annotated[
    StrictStr, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
Number = StrictInt | float
ScoreState = Literal["SCORED", "PENDING_SCORE", "UNSCORABLE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Scored(_Strict):
    """WHOOP sends ``score`` only when ``score_state`` is ``SCORED`` (§4)."""

    @model_validator(mode="after")
    def _score_iff_scored(self) -> _Scored:
        has_score = getattr(self, "score", None) is not None
        if has_score != (getattr(self, "score_state", None) == "SCORED"):
            raise ValueError("score must be present exactly when score_state is SCORED")
        return self


class UserBasicProfile(_Strict):
    user_id: StrictInt
    email: StrictStr
    first_name: StrictStr
    last_name: StrictStr


class UserBodyMeasurement(_Strict):
    height_meter: Number
    weight_kilogram: Number
    max_heart_rate: StrictInt


class CycleScore(_Strict):
    strain: Number
    kilojoule: Number
    average_heart_rate: StrictInt
    max_heart_rate: StrictInt


class Cycle(_Scored):
    id: StrictInt
    user_id: StrictInt
    created_at: Timestamp
    updated_at: Timestamp
    start: Timestamp
    end: Timestamp | None = None
    timezone_offset: TZD
    score_state: ScoreState
    score: CycleScore | None = None


class SleepStageSummary(_Strict):
    total_in_bed_time_milli: StrictInt
    total_awake_time_milli: StrictInt
    total_no_data_time_milli: StrictInt
    total_light_sleep_time_milli: StrictInt
    total_slow_wave_sleep_time_milli: StrictInt
    total_rem_sleep_time_milli: StrictInt
    sleep_cycle_count: StrictInt
    disturbance_count: StrictInt


class SleepNeeded(_Strict):
    baseline_milli: StrictInt
    need_from_sleep_debt_milli: StrictInt
    need_from_recent_strain_milli: StrictInt
    need_from_recent_nap_milli: Annotated[StrictInt, Field(le=0)]


class SleepScore(_Strict):
    stage_summary: SleepStageSummary
    sleep_needed: SleepNeeded
    respiratory_rate: Number | None = None
    sleep_performance_percentage: Number | None = None
    sleep_consistency_percentage: Number | None = None
    sleep_efficiency_percentage: Number | None = None


class Sleep(_Scored):
    id: UUIDStr
    cycle_id: StrictInt
    v1_id: StrictInt | None = None
    user_id: StrictInt
    created_at: Timestamp
    updated_at: Timestamp
    start: Timestamp
    end: Timestamp
    timezone_offset: TZD
    nap: StrictBool
    score_state: ScoreState
    score: SleepScore | None = None


class RecoveryScore(_Strict):
    user_calibrating: StrictBool
    recovery_score: Number
    resting_heart_rate: Number
    hrv_rmssd_milli: Number
    spo2_percentage: Number | None = None
    skin_temp_celsius: Number | None = None


class Recovery(_Scored):
    cycle_id: StrictInt
    sleep_id: UUIDStr
    user_id: StrictInt
    created_at: Timestamp
    updated_at: Timestamp
    score_state: ScoreState
    score: RecoveryScore | None = None


class ZoneDurations(_Strict):
    zone_zero_milli: StrictInt
    zone_one_milli: StrictInt
    zone_two_milli: StrictInt
    zone_three_milli: StrictInt
    zone_four_milli: StrictInt
    zone_five_milli: StrictInt


class WorkoutScore(_Strict):
    strain: Number
    average_heart_rate: StrictInt
    max_heart_rate: StrictInt
    kilojoule: Number
    percent_recorded: Number
    distance_meter: Number | None = None
    altitude_gain_meter: Number | None = None
    altitude_change_meter: Number | None = None
    zone_durations: ZoneDurations


class WorkoutV2(_Scored):
    id: UUIDStr
    v1_id: StrictInt | None = None
    user_id: StrictInt
    created_at: Timestamp
    updated_at: Timestamp
    start: Timestamp
    end: Timestamp
    timezone_offset: TZD
    sport_name: StrictStr
    score_state: ScoreState
    score: WorkoutScore | None = None
    sport_id: StrictInt | None = None


class PaginatedCycleResponse(_Strict):
    records: list[Cycle]
    next_token: StrictStr | None = None


class PaginatedSleepResponse(_Strict):
    records: list[Sleep]
    next_token: StrictStr | None = None


class RecoveryCollection(_Strict):
    records: list[Recovery]
    next_token: StrictStr | None = None


class WorkoutCollection(_Strict):
    records: list[WorkoutV2]
    next_token: StrictStr | None = None


class ActivityIdMapping(_Strict):
    v2_activity_id: UUIDStr


class WebhookEvent(_Strict):
    user_id: StrictInt
    id: UUIDStr
    type: Literal[
        "workout.updated",
        "workout.deleted",
        "sleep.updated",
        "sleep.deleted",
        "recovery.updated",
        "recovery.deleted",
    ]
    trace_id: StrictStr


class TokenResponse(_Strict):
    access_token: StrictStr
    expires_in: StrictInt
    refresh_token: StrictStr | None = None
    scope: StrictStr
    token_type: Literal["bearer"]


class OAuthError(_Strict):
    error: StrictStr
    error_description: StrictStr | None = None
