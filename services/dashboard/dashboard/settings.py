"""Dashboard settings (``WDP_DASHBOARD_`` prefix).

``api_keys`` follows the receiver's model: it maps an API key to ``"admin"`` (every member and
the data-quality page) or to the list of WHOOP user ids the key may read, e.g.
``WDP_DASHBOARD_API_KEYS='{"k-ops": "admin", "k-rosa": [24601]}'``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigurationError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
#: Keys that only make sense in a local demo; refused outside ``dev`` like every placeholder.
_PLACEHOLDER_KEYS = frozenset({"changeme", "admin", "dev", "test", "secret"})


class DashboardSettings(BaseSettings):
    """HTTP, auth and query-window settings; every value has an embedded-local default."""

    model_config = SettingsConfigDict(env_prefix="WDP_DASHBOARD_", env_ignore_empty=True)

    environment: Literal["dev", "test", "prod"] = Field(
        default="dev", description="short or placeholder API keys are refused outside dev"
    )
    host: str = Field(default="127.0.0.1", description="interface uvicorn binds")
    port: int = Field(default=8090, ge=0, le=65535, description="TCP port uvicorn binds")
    api_keys: dict[str, Literal["admin"] | list[int]] = Field(
        default_factory=dict,
        description='JSON: API key -> "admin" (everyone + data quality) or a list of WHOOP '
        "user ids the key may read; empty refuses every request",
    )
    gold_schema: str = Field(default="gold", description="schema of the gold tables/views")
    bronze_schema: str = Field(
        default="bronze", description="schema of the loader's quarantine tables"
    )
    trend_days: int = Field(default=90, ge=7, le=730, description="recovery trend window, days")
    sleep_days: int = Field(default=30, ge=1, le=365, description="sleep page window, days")
    workout_days: int = Field(default=90, ge=1, le=730, description="workouts page window, days")
    aggregate_weeks: int = Field(default=26, ge=1, le=520, description="weeks on the trends page")
    aggregate_months: int = Field(default=12, ge=1, le=120, description="months on the trends page")
    prediction_models: list[str] = Field(
        default_factory=lambda: ["ridge_recovery", "baseline_7d_mean"],
        description="fact_predictions model_name preference: the first one a user has wins",
    )
    cookie_secure: bool = Field(
        default=False, description="mark the login cookie Secure (always on in prod)"
    )

    @field_validator("gold_schema", "bronze_schema")
    @classmethod
    def _identifier(cls, value: str) -> str:
        # Schema names are interpolated into SQL (identifiers cannot be bound parameters).
        if not _IDENTIFIER.match(value):
            raise ValueError(f"not a plain SQL identifier: {value!r}")
        return value

    @model_validator(mode="after")
    def _check(self) -> DashboardSettings:
        if self.environment != "dev":
            weak = [k for k in self.api_keys if len(k) < 16 or k.lower() in _PLACEHOLDER_KEYS]
            if weak:
                raise ConfigurationError(
                    "WDP_DASHBOARD_API_KEYS holds short or placeholder keys outside dev; "
                    "use random keys of at least 16 characters"
                )
        return self

    @property
    def secure_cookie(self) -> bool:
        """Whether the login cookie must only travel over HTTPS."""
        return self.cookie_secure or self.environment == "prod"
