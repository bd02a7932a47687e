"""The one naming source for Snowflake objects (``snowflake_naming.json`` beside this file).

Databases, schemas, roles, warehouses, service users and BI view names are defined once in the
JSON file. Python reads them here (service setting defaults, the adapter's publish roles);
Terraform reads the same file with ``jsondecode`` (infrastructure/snowflake/terraform and the
Azure container apps' ``WDP_SNOWFLAKE_*`` settings); dbt's profile, the BI models and the
Power BI parameters carry copies that ``tests/unit/infra/test_snowflake_naming.py`` compares
with it. See docs/warehouse.md ("Naming").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

NAMING_FILE = Path(__file__).with_name("snowflake_naming.json")


@dataclass(frozen=True)
class ServiceIdentity:
    """What one Snowflake service connects as."""

    user: str
    role: str
    warehouse: str
    schema: str


@dataclass(frozen=True)
class SnowflakeNaming:
    """Resolved names (every value upper case, as Snowflake stores unquoted identifiers)."""

    database: str
    schemas: dict[str, str]
    published_suffix: str
    retention_days: dict[str, int]
    roles: dict[str, str]
    warehouses: dict[str, str]
    services: dict[str, ServiceIdentity]
    publish_roles: dict[str, str]
    bi_views: dict[str, str | None]
    raw: dict[str, Any]

    def published(self, schema_key: str) -> str:
        """The readers' copy of a schema (``GOLD`` → ``GOLD_PUBLISHED``)."""
        return self.schemas[schema_key] + self.published_suffix


def parse_naming(raw: dict[str, Any]) -> SnowflakeNaming:
    """Resolve the role/warehouse/schema keys of ``raw`` (the JSON document) into names."""
    roles = {k: str(v) for k, v in raw["roles"].items()}
    warehouses = {k: str(v) for k, v in raw["warehouses"].items()}
    schemas = {k: str(v) for k, v in raw["schemas"].items()}
    services = {
        name: ServiceIdentity(
            user=str(svc["user"]),
            role=roles[svc["role"]],
            warehouse=warehouses[svc["warehouse"]],
            schema=schemas[svc["schema"]],
        )
        for name, svc in raw["services"].items()
    }
    return SnowflakeNaming(
        database=str(raw["database"]),
        schemas=schemas,
        published_suffix=str(raw["published_suffix"]),
        retention_days={k: int(v) for k, v in raw["retention_days"].items()},
        roles=roles,
        warehouses=warehouses,
        services=services,
        publish_roles={str(s): roles[r] for s, r in raw["publish_roles"].items()},
        bi_views={str(k): (None if v is None else str(v)) for k, v in raw["bi_views"].items()},
        raw=raw,
    )


@cache
def naming() -> SnowflakeNaming:
    """The committed naming source."""
    return parse_naming(json.loads(NAMING_FILE.read_text(encoding="utf-8")))
