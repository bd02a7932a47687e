"""Simulator settings: one pydantic-settings model, ``WDP_SIM_`` env prefix.

Every default is a local-dev default. ``client_secret`` and ``admin_token`` have dev-only
defaults so ``wdp sim serve`` works out of the box; anything reachable from outside must set
``WDP_SIM_CLIENT_SECRET`` and ``WDP_SIM_ADMIN_TOKEN``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# WHOOP: 5 retries over about an hour.
WHOOP_RETRY_SCHEDULE_S: tuple[float, ...] = (60.0, 300.0, 600.0, 1200.0, 1500.0)


class SimulatorConfig(BaseSettings):
    """Everything the simulator app needs; build it directly in tests."""

    model_config = SettingsConfigDict(env_prefix="WDP_SIM_", env_ignore_empty=True, extra="ignore")

    seed: int = Field(default=42, description="seed of the deterministic synthetic generator")
    n_users: int = Field(default=3, ge=1, le=1000, description="synthetic WHOOP members generated")
    history_days: int = Field(
        default=60, ge=1, description="Days of history generated before `now`"
    )
    future_days: int = Field(
        default=14, ge=0, description="Days generated past `now` for live mode / time advance"
    )
    now: datetime | None = Field(
        default=None, description="Simulated start instant (UTC); default: wall clock"
    )
    legacy_ids: bool = Field(default=True, description="v1_id/sport_id before 2025-09-01")

    mode: Literal["static", "live"] = Field(
        default="static",
        description="static: clock frozen at `now` (moves only via admin advance); live: it runs",
    )
    speed: float = Field(default=60.0, gt=0, description="live mode: simulated s per real s")
    tick_interval_s: float = Field(
        default=0.25, gt=0, description="How often newly visible changes fire webhooks, real s"
    )

    client_id: str = Field(
        default="wdp-local-client", description="The one registered OAuth client"
    )
    client_secret: SecretStr = Field(
        default=SecretStr("wdp-local-client-secret"),
        description="OAuth client secret; also signs webhooks, as at WHOOP",
    )
    redirect_uris: list[str] = Field(
        default_factory=list, description="Registered redirect URIs; empty accepts any"
    )
    auto_approve: bool = Field(
        default=False, description="Authorize with ?user_id= redirects at once (tests)"
    )
    token_ttl_s: int = Field(
        default=3600, ge=1, description="Access token lifetime (expires_in), s"
    )
    code_ttl_s: int = Field(default=300, ge=1, description="Authorization code lifetime, s")

    rate_limit_per_minute: int = Field(
        default=100, ge=1, description="Requests per window before 429 (WHOOP: 100/min)"
    )
    rate_limit_per_day: int = Field(
        default=10_000, ge=1, description="Requests per day window before 429 (WHOOP: 10,000)"
    )
    rate_limit_window_s: float = Field(
        default=60.0, gt=0, description="Short rate-limit window; shrink it to speed up tests, s"
    )
    rate_limit_day_window_s: float = Field(
        default=86_400.0, gt=0, description="Daily rate-limit window, s"
    )

    webhook_url: str | None = Field(
        default=None, description="Where webhooks are POSTed; unset sends none"
    )
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: list(WHOOP_RETRY_SCHEDULE_S),
        description="Delays between redeliveries of a failed webhook (WHOOP: 5 over ~1 h), s",
    )
    webhook_timeout_s: float = Field(
        default=5.0, gt=0, description="HTTP timeout per webhook delivery, s"
    )

    admin_token: SecretStr = Field(
        default=SecretStr("wdp-local-admin-token"),
        description="X-Admin-Token guarding /admin (faults, time advance, ground truth)",
    )

    def resolved_now(self) -> datetime:
        """The simulated start instant (aware UTC, whole seconds)."""
        now = self.now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(UTC).replace(microsecond=0)

    def start_date(self) -> date:
        """First wake day of the generated history."""
        return self.resolved_now().date() - timedelta(days=self.history_days)

    def total_days(self) -> int:
        """History + today + the future horizon."""
        return self.history_days + 1 + self.future_days
