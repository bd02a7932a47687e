"""Receiver settings (``WDP_RECEIVER_`` prefix).

``api_keys`` maps an API key to what it may touch: ``"admin"`` or a list of WHOOP user ids,
e.g. ``WDP_RECEIVER_API_KEYS='{"k-ops": "admin", "k-rosa": [24601]}'``. Entra ID bearer tokens
are accepted when ``entra_audience`` and a JWKS (URL or inline JSON) are set.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigurationError


class ReceiverSettings(BaseSettings):
    """HTTP, OAuth, webhook and REST-auth settings; every non-secret has a local default."""

    model_config = SettingsConfigDict(env_prefix="WDP_RECEIVER_", env_ignore_empty=True)

    environment: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="externally visible base URL; the OAuth redirect is <this>/auth/whoop/callback",
    )
    oauth_state_ttl_s: float = Field(default=600.0, gt=0)
    initial_backfill_days: int = Field(default=90, ge=0)
    webhook_max_age_s: float = Field(
        default=7200.0, gt=0, description="accept WHOOP retries (~1 h span) with room to spare"
    )
    webhook_max_future_s: float = Field(default=300.0, ge=0)
    webhook_max_body_bytes: int = Field(default=64 * 1024, gt=0)
    api_keys: dict[str, Literal["admin"] | list[int]] = Field(default_factory=dict)
    entra_issuer: str | None = None
    entra_audience: str | None = None
    entra_jwks_url: str | None = None
    entra_jwks_json: SecretStr | None = None
    entra_admin_role: str = "WDP.Admin"
    entra_user_claim: str = "whoop_user_id"

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
