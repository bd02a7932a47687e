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
from shared.snowflake_naming import naming

_SNOWFLAKE = naming()

Profile = Literal["local", "azure"]
WarehouseKind = Literal["duckdb", "snowflake"]


class PlatformSettings(BaseSettings):
    """Everything adapters need; each adapter has ``from_settings(PlatformSettings)``."""

    model_config = SettingsConfigDict(
        env_prefix="WDP_", env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    profile: Profile = Field(
        default="local",
        description="Adapters the composition root builds: embedded local or Azure/Snowflake.",
    )
    environment: Literal["dev", "test", "prod"] = Field(
        default="dev",
        description="Deployment stage; local dev defaults for secrets are refused outside dev.",
    )
    data_dir: Path = Field(
        default=Path(".wdp"),
        description="Root of all local state: bus, lake, DuckDB, tokens, logs, heartbeats.",
    )
    log_level: str = Field(default="INFO", description="Root log level of the JSON logs.")

    # --- message bus -------------------------------------------------------------------
    bus_lock_duration_s: float = Field(
        default=30.0,
        gt=0,
        description="Peek-lock duration of LocalBus (Service Bus sets it per subscription in IaC).",
    )
    bus_max_delivery_count: int = Field(
        default=10,
        ge=1,
        description="Deliveries before a message is dead-lettered (MaxDeliveryCountExceeded).",
    )
    bus_poll_interval_s: float = Field(default=0.05, gt=0, description="LocalBus idle poll")
    servicebus_fully_qualified_namespace: str | None = Field(
        default=None,
        description="Service Bus namespace; authenticates with DefaultAzureCredential.",
    )
    servicebus_connection_string: SecretStr | None = Field(
        default=None,
        description="Service Bus connection string (emulator, contract tests) instead of MI.",
    )
    servicebus_use_sessions: bool = Field(
        default=False,
        description="Session-enabled subscriptions keyed by user for per-user ordering.",
    )
    servicebus_prefetch: int = Field(
        default=20, ge=0, description="Service Bus receiver prefetch count."
    )

    # --- blob storage ------------------------------------------------------------------
    blob_container: str = Field(
        default="lake", description="Container (local: folder) holding bronze and model artefacts."
    )
    blob_account_url: str | None = Field(
        default=None,
        description="ADLS Gen2 account URL; authenticates with DefaultAzureCredential.",
    )
    blob_connection_string: SecretStr | None = Field(
        default=None, description="Storage connection string (Azurite) instead of managed identity."
    )
    blob_emit_events: bool = Field(
        default=True,
        description="Publish BlobCreated to the bus after writes (local, Azurite). In Azure "
        "Event Grid does it, so set false there.",
    )
    blob_event_schema: Literal["eventgrid", "cloudevents"] = Field(
        default="eventgrid",
        description="Schema of self-emitted BlobCreated events (the loader accepts both).",
    )

    # --- warehouse ---------------------------------------------------------------------
    warehouse: WarehouseKind = Field(
        default="duckdb", description="Warehouse adapter and dbt target family."
    )
    duckdb_path: Path | None = Field(
        default=None, description="DuckDB file (default <data_dir>/warehouse.duckdb)."
    )
    duckdb_published_path: Path | None = Field(
        default=None,
        description="Published (audited) copy readers query without waiting on writers "
        "(default <warehouse file stem>.published.duckdb beside it).",
    )
    snowflake_account: str | None = Field(default=None, description="Snowflake account identifier.")
    snowflake_user: str | None = Field(default=None, description="Snowflake user of the service.")
    snowflake_password: SecretStr | None = Field(
        default=None, description="Password auth (emulator only; production uses key-pair)."
    )
    snowflake_private_key_path: Path | None = Field(
        default=None, description="PEM private key for key-pair auth."
    )
    snowflake_private_key_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of the private key, if encrypted."
    )
    snowflake_role: str | None = Field(default=None, description="Role the service assumes.")
    snowflake_warehouse: str | None = Field(
        default=None, description="Virtual warehouse for loads and queries."
    )
    snowflake_database: str = Field(
        default=_SNOWFLAKE.database,
        description="Database of every layer (default: shared/snowflake_naming.json).",
    )
    snowflake_schema: str = Field(
        default=_SNOWFLAKE.schemas["bronze"],
        description="Session schema: the loader's raw tables and stage (the scorer: GOLD).",
    )
    snowflake_host: str | None = Field(
        default=None, description="Host override (fakesnow in tests)."
    )
    snowflake_port: int | None = Field(
        default=None, description="Port override (fakesnow in tests)."
    )
    snowflake_protocol: Literal["https", "http"] = Field(
        default="https", description="Protocol override (http for fakesnow)."
    )
    snowflake_external_stage: str | None = Field(
        default=None,
        description="External ADLS stage to COPY from instead of PUT to an internal stage.",
    )

    # --- secrets and tokens ------------------------------------------------------------
    key_vault_url: str | None = Field(
        default=None,
        description="Key Vault holding secrets; when unset, secrets come from env vars.",
    )
    token_encryption_key_name: str = Field(
        default="token-encryption-key",
        description="Secret name of the Fernet key that encrypts OAuth tokens at rest.",
    )

    # --- WHOOP -------------------------------------------------------------------------
    whoop_api_base_url: str = Field(
        default="http://127.0.0.1:8765/developer",
        description="WHOOP data API base (the simulator locally).",
    )
    whoop_oauth_base_url: str = Field(
        default="http://127.0.0.1:8765/oauth/oauth2",
        description="WHOOP OAuth base (authorize at /auth, token at /token).",
    )
    whoop_client_id: str = Field(default="wdp-local-client", description="WHOOP app client id.")
    whoop_client_secret_name: str = Field(
        default="whoop-client-secret",
        description="Secret name of the WHOOP client secret (env WDP_WHOOP_CLIENT_SECRET locally).",
    )

    # --- telemetry ---------------------------------------------------------------------
    otel_exporter: Literal["none", "console", "otlp", "azure", "file"] = Field(
        default="none",
        description="Span exporter (Azure Monitor when the App Insights connection string is set).",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP endpoint for otel_exporter=otlp."
    )
    otel_file_path: Path | None = Field(
        default=None,
        description="JSON-lines span file for otel_exporter=file (default <data_dir>/spans.jsonl);"
        " every local process appends to it, so tests can assert one trace across hops.",
    )
    applicationinsights_connection_string: SecretStr | None = Field(
        default=None,
        validation_alias="APPLICATIONINSIGHTS_CONNECTION_STRING",
        description="App Insights connection string; when set, spans go to Azure Monitor.",
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
    def duckdb_published_file(self) -> Path:
        """The published DuckDB file readers query (write-audit-publish)."""
        if self.duckdb_published_path is not None:
            return self.duckdb_published_path
        warehouse = self.duckdb_file
        return warehouse.with_name(f"{warehouse.stem}.published{warehouse.suffix}")

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
