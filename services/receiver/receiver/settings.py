"""Receiver settings (``WDP_RECEIVER_`` prefix).

``api_keys`` maps an API key to what it may touch: ``"admin"`` or a list of WHOOP user ids,
e.g. ``WDP_RECEIVER_API_KEYS='{"k-ops": "admin", "k-rosa": [24601]}'``. Entra ID bearer tokens
are accepted when ``entra_audience`` and a JWKS (URL or inline JSON) are set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigurationError


class ReceiverSettings(BaseSettings):
    """HTTP, OAuth, webhook and REST-auth settings; every non-secret has a local default."""

    model_config = SettingsConfigDict(env_prefix="WDP_RECEIVER_", env_ignore_empty=True)

    environment: Literal["dev", "test", "prod"] = Field(
        default="dev", description="deployment stage; prod requires an https public_base_url"
    )
    host: str = Field(default="127.0.0.1", description="interface uvicorn binds")
    port: int = Field(default=8080, ge=0, le=65535, description="TCP port uvicorn binds")
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="externally visible base URL; the OAuth redirect is <this>/auth/whoop/callback",
    )
    oauth_state_ttl_s: float = Field(
        default=600.0, gt=0, description="lifetime of the single-use OAuth state and its cookie, s"
    )
    initial_backfill_days: int = Field(
        default=90,
        ge=0,
        description="history requested in UserConnected when a user connects, days",
    )
    webhook_max_age_s: float = Field(
        default=7200.0, gt=0, description="accept WHOOP retries (~1 h span) with room to spare"
    )
    webhook_max_future_s: float = Field(
        default=300.0,
        ge=0,
        description="tolerated clock skew for webhook timestamps in the future, s",
    )
    webhook_max_body_bytes: int = Field(
        default=64 * 1024, gt=0, description="larger webhook bodies are refused with 413, bytes"
    )
    sync_earliest_start: datetime = Field(
        default=datetime.fromisoformat("2015-01-01T00:00:00+00:00"),
        description="earliest start a REST sync may ask for (WHOOP has no member data before "
        "its first straps shipped in 2015); an earlier start is refused with 422",
    )
    sync_max_span_days: int = Field(
        default=3660,
        ge=1,
        description="longest [start, end) one REST sync may cover, days (with 365-day windows "
        "at most 11 per resource); start=1900, end=9999 once planned 32,424 windows on the "
        "app-wide WHOOP quota",
    )
    sync_max_future_s: float = Field(
        default=300.0,
        ge=0,
        description="how far past now a REST sync end may lie (clock skew), s; later → 422",
    )
    sync_job_stale_s: float = Field(
        default=21600.0,
        gt=0,
        description="a user's queued/running job blocks new REST syncs (409) until it "
        "finishes or has not progressed for this long, s (a dead extractor must not lock the "
        "user out)",
    )
    api_keys: dict[str, Literal["admin"] | list[int]] = Field(
        default_factory=dict,
        description='JSON: API key -> "admin" or a list of WHOOP user ids the key may touch',
    )
    entra_issuer: str | None = Field(
        default=None, description="expected Entra ID token issuer; unset skips the issuer check"
    )
    entra_audience: str | None = Field(
        default=None, description="Entra ID token audience; with a JWKS it enables bearer auth"
    )
    entra_jwks_url: str | None = Field(
        default=None, description="URL of the Entra ID signing keys (JWKS)"
    )
    entra_jwks_json: SecretStr | None = Field(
        default=None, description="inline JWKS JSON; wins over entra_jwks_url (offline/tests)"
    )
    entra_admin_role: str = Field(
        default="WDP.Admin", description="app role in the token that grants admin access"
    )
    entra_user_claim: str = Field(
        default="whoop_user_id", description="token claim holding the caller's WHOOP user id"
    )

    @model_validator(mode="after")
    def _check(self) -> ReceiverSettings:
        if self.webhook_max_age_s < 3600:
            raise ConfigurationError(
                "WDP_RECEIVER_WEBHOOK_MAX_AGE_S below 3600 would reject WHOOP's own retries"
            )
        if self.environment == "prod" and not self.public_base_url.startswith("https://"):
            raise ConfigurationError("WDP_RECEIVER_PUBLIC_BASE_URL must be https in prod")
        return self

    @property
    def redirect_uri(self) -> str:
        """The OAuth redirect registered at WHOOP (must match exactly)."""
        return self.public_base_url.rstrip("/") + "/auth/whoop/callback"

    @property
    def dedupe_retention_s(self) -> float:
        """Keep webhook dedupe records at least as long as a replay could be accepted."""
        return self.webhook_max_age_s + self.webhook_max_future_s
