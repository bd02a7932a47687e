"""Transformer settings (``WDP_TRANSFORMER_`` prefix); platform ones come from PlatformSettings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# services/transformer/transformer/settings.py -> repository root -> dbt_project
_REPO_DBT_PROJECT = Path(__file__).resolve().parents[3] / "dbt_project"

Selection = Literal["affected", "all"]


class TransformerSettings(BaseSettings):
    """Knobs of the transformer process; every one has an embedded-local default."""

    model_config = SettingsConfigDict(
        env_prefix="WDP_TRANSFORMER_", env_ignore_empty=True, extra="ignore"
    )

    debounce_s: float = Field(
        default=0.3,
        ge=0,
        description="After the first bronze.loaded message, keep receiving this long so a burst "
        "of loads becomes one dbt build",
    )
    max_messages: int = Field(default=100, ge=1, description="Messages merged into one build")
    receive_wait_s: float = Field(default=1.0, gt=0, description="Receive wait per poll")
    lock_renew_interval_s: float = Field(
        default=10.0, gt=0, description="peek-lock renewal period while a dbt build runs, s"
    )
    dbt_target: str = Field(default="duckdb", description="profiles.yml target: duckdb|snowflake")
    dbt_project_dir: Path = Field(
        default=_REPO_DBT_PROJECT, description="The dbt project; defaults to the repo's"
    )
    dbt_profiles_dir: Path | None = Field(
        default=None, description="Directory of profiles.yml; defaults to the project dir"
    )
    selection: Selection = Field(
        default="affected",
        description="'affected': build only what descends from the loaded raw tables (after one "
        "full build per process); 'all': build the whole project every time",
    )
    deferred_data_tests: bool = Field(
        default=True,
        description="Build models and announce gold to the scorer at once; run the data "
        "tests (the audit) when the consumer has been idle for tests_idle_s, and publish gold "
        "to readers only when they pass. False runs dbt's interleaved build and publishes and "
        "announces only after every test passed",
    )
    publish_max_lag_s: float = Field(
        default=30.0,
        gt=0,
        description="Under continuous ingest, audit and publish at least this often even "
        "without an idle period (readers' staleness bound), s",
    )
    tests_idle_s: float = Field(
        default=5.0,
        ge=0,
        description="Quiet time after the last build before deferred data tests run",
    )
    run_unit_tests: bool = Field(
        default=False,
        description="dbt unit tests check SQL logic, not data; CI runs them, the service need not",
    )
    lookback_hours: int = Field(
        default=72,
        ge=1,
        description="Must equal the dbt var of the same name; older batches get a full refresh",
    )

    @property
    def profiles_dir(self) -> Path:
        """Where profiles.yml lives (the project ships its own)."""
        return self.dbt_profiles_dir or self.dbt_project_dir
