"""Scorer settings (``WDP_SCORER_`` prefix); platform-wide settings come from PlatformSettings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScorerSettings(BaseSettings):
    """Knobs of the scorer process; every one has an embedded-local default."""

    model_config = SettingsConfigDict(
        env_prefix="WDP_SCORER_", env_ignore_empty=True, extra="ignore"
    )

    artefact_name: str = Field(
        default="ridge_recovery", description="Registry name of the trained model to load"
    )
    artefact_refresh_s: float = Field(
        default=10.0, gt=0, description="How often to look for a newer model version"
    )
    max_messages: int = Field(
        default=20, ge=1, description="GoldUpdated messages scored together (one pass per user)"
    )
    max_wait_s: float = Field(default=0.5, gt=0, description="Receive wait per poll")
    lock_renew_interval_s: float = Field(
        default=10.0, gt=0, description="peek-lock renewal period while a batch is scored, s"
    )
