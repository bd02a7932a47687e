"""Platform settings shared by every service (pydantic-settings, ``WDP_`` env prefix).

Local vs Azure is configuration: ``WDP_PROFILE=local`` (default, embedded everything under
``WDP_DATA_DIR``) or ``WDP_PROFILE=azure``. Service-specific settings live in each service's
``settings.py`` with a ``WDP_<SERVICE>_`` prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigurationError

Profile = Literal["local", "azure"]
WarehouseKind = Literal["duckdb", "snowflake"]


class PlatformSettings(BaseSettings):
    """Everything adapters need; each adapter has ``from_settings(PlatformSettings)``."""

    model_config = SettingsConfigDict(
        env_prefix="WDP_", env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    profile: Profile = "local"
    environment: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Path(".wdp")
    log_level: str = "INFO"

    # --- message bus -------------------------------------------------------------------
    bus_lock_duration_s: float = Field(default=30.0, gt=0)
    bus_max_delivery_count: int = Field(default=10, ge=1)
    bus_poll_interval_s: float = Field(default=0.05, gt=0, description="LocalBus idle poll")
    servicebus_fully_qualified_namespace: str | None = None
    servicebus_connection_string: SecretStr | None = None
    servicebus_use_sessions: bool = False
    servicebus_prefetch: int = Field(default=20, ge=0)

    # --- blob storage ------------------------------------------------------------------
    blob_container: str = "lake"
    blob_account_url: str | None = None
    blob_connection_string: SecretStr | None = None
    blob_emit_events: bool = Field(
        default=True,
        description="Publish BlobCreated to the bus after writes (local, Azurite). In Azure "
        "Event Grid does it, so set false there.",
    )
    blob_event_schema: Literal["eventgrid", "cloudevents"] = "eventgrid"

    # --- warehouse ---------------------------------------------------------------------
    warehouse: WarehouseKind = "duckdb"
    duckdb_path: Path | None = None
    snowflake_account: str | None = None
    snowflake_user: str | None = None
    snowflake_password: SecretStr | None = None
    snowflake_private_key_path: Path | None = None
    snowflake_private_key_passphrase: SecretStr | None = None
    snowflake_role: str | None = None
    snowflake_warehouse: str | None = None
    snowflake_database: str = "WHOOP"
    snowflake_schema: str = "BRONZE"
    snowflake_host: str | None = None
    snowflake_port: int | None = None
    snowflake_protocol: Literal["https", "http"] = "https"
    snowflake_external_stage: str | None = None

    # --- secrets and tokens ------------------------------------------------------------
    key_vault_url: str | None = None
    token_encryption_key_name: str = "token-encryption-key"

    # --- WHOOP -------------------------------------------------------------------------
    whoop_api_base_url: str = "http://127.0.0.1:8765/developer"
    whoop_oauth_base_url: str = "http://127.0.0.1:8765/oauth/oauth2"
    whoop_client_id: str = "wdp-local-client"
    whoop_client_secret_name: str = "whoop-client-secret"

    # --- telemetry ---------------------------------------------------------------------
    otel_exporter: Literal["none", "console", "otlp", "azure", "file"] = "none"
    otel_exporter_otlp_endpoint: str | None = None
    otel_file_path: Path | None = Field(
        default=None,
        description="JSON-lines span file for otel_exporter=file (default <data_dir>/spans.jsonl);"
        " every local process appends to it, so tests can assert one trace across hops.",
    )
    applicationinsights_connection_string: SecretStr | None = Field(
        default=None, validation_alias="APPLICATIONINSIGHTS_CONNECTION_STRING"
    )

    @model_validator(mode="after")
    def _check_profile(self) -> PlatformSettings:
        if self.profile == "azure":
            if not (self.servicebus_fully_qualified_namespace or self.servicebus_connection_string):
                raise ConfigurationError(
                    "WDP_PROFILE=azure needs WDP_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE "
                    "(managed identity) or WDP_SERVICEBUS_CONNECTION_STRING"
                )
            if not (self.blob_account_url or self.blob_connection_string):
                raise ConfigurationError(
                    "WDP_PROFILE=azure needs WDP_BLOB_ACCOUNT_URL or WDP_BLOB_CONNECTION_STRING"
                )
        return self

    # Derived local paths: one place so every process agrees on them.
    @property
    def bus_path(self) -> Path:
        """SQLite file of the LocalBus."""
        return self.data_dir / "bus.sqlite3"

    @property
    def blob_root(self) -> Path:
        """Root folder of the LocalBlobStore (the container is a sub-folder)."""
        return self.data_dir / "lake"

    @property
    def duckdb_file(self) -> Path:
        """The DuckDB warehouse file."""
        return self.duckdb_path or (self.data_dir / "warehouse.duckdb")

    @property
    def token_db_path(self) -> Path:
        """SQLite file of the local TokenStore."""
        return self.data_dir / "tokens.sqlite3"

    @property
    def otel_spans_file(self) -> Path:
        """Where ``otel_exporter=file`` appends spans."""
        return self.otel_file_path or (self.data_dir / "spans.jsonl")

    @property
    def state_db_path(self) -> Path:
        """SQLite file for per-service state (watermarks, jobs, dedupe) in the local profile."""
        return self.data_dir / "state.sqlite3"
