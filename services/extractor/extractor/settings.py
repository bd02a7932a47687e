"""Extractor settings (``WDP_EXTRACTOR_`` prefix); platform-wide ones stay in PlatformSettings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExtractorSettings(BaseSettings):
    """Rate limits, retries, windows and schedules; every value has a local default."""

    model_config = SettingsConfigDict(env_prefix="WDP_EXTRACTOR_", env_ignore_empty=True)

    rate_limit_per_minute: int = Field(default=100, ge=1, description="WHOOP app-wide limit")
    rate_limit_per_day: int = Field(
        default=10_000, ge=1, description="WHOOP app-wide daily request limit"
    )
    rate_limit_backfill_reserve_per_minute: int = Field(
        default=20,
        ge=0,
        description="grants of each minute window backfill, sync and reconciliation pages may "
        "not take: kept for webhooks, so they are fetched ahead of any backfill",
    )
    rate_limit_backfill_reserve_per_day: int = Field(
        default=1000,
        ge=0,
        description="grants of the day window kept for webhooks in the same way",
    )
    rate_limit_margin_s: float = Field(
        default=0.5, ge=0, description="widen the 60 s window against clock and latency skew"
    )
    request_timeout_s: float = Field(
        default=20.0, gt=0, description="HTTP timeout per WHOOP request, s"
    )
    max_attempts: int = Field(default=6, ge=1, description="tries per request (5xx, timeouts)")
    backoff_base_s: float = Field(
        default=0.5,
        ge=0,
        description="full-jitter backoff base: retry n sleeps U(0, min(cap, base * 2^n)), s",
    )
    backoff_cap_s: float = Field(
        default=30.0, ge=0, description="upper bound of one retry backoff sleep, s"
    )
    backfill_window_days: int = Field(
        default=365,
        ge=1,
        description="history is split per resource into windows of this size; each window "
        "checkpoints its page cursor so a killed backfill resumes without refetching pages",
    )
    overlap_hours: float = Field(
        default=48.0, ge=0, description="re-read this much before the watermark (late re-scores)"
    )
    reconcile_interval_s: float = Field(
        default=86_400.0,
        gt=0,
        description="period of the reconciliation job (catches missed webhooks; 4 WHOOP calls "
        "per member per run, so it sets how many members one app's quota serves)",
    )
    reconcile_days: int = Field(
        default=7, ge=1, description="recent days re-listed per user by reconciliation"
    )
    profile_refresh_s: float = Field(
        default=604_800.0, gt=0, description="profile + body measurement poll (no webhooks)"
    )
    coalesce_margin_s: float = Field(
        default=2.0,
        ge=0,
        description="a webhook received this long before a finished fetch of its record is "
        "served by that fetch (coalescing; the margin absorbs clock skew between hosts), s",
    )
    recovery_retry_delay_s: float = Field(
        default=120.0, ge=0, description="redelivery delay when a recovery is not scored yet"
    )
    recovery_max_attempts: int = Field(
        default=5,
        ge=1,
        description="delayed retries of an unscored recovery before leaving it to reconciliation",
    )
    initial_backfill_days: int = Field(
        default=90, ge=0, description="history fetched for a resource without a watermark, days"
    )
    max_messages: int = Field(
        default=1, ge=1, description="webhook messages received per poll of webhook.received"
    )
