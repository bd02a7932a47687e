"""The DBA-facing bronze DDL file and the adapter's ``ensure_schema`` must not drift apart.

``infrastructure/snowflake/03_bronze_tables.sql`` is a copy of
``SnowflakeWarehouse``'s ``schema_ddl('WHOOP.BRONZE')`` so operators can run it by hand; this
test makes that copy checked rather than trusted.
"""

from __future__ import annotations

import re
from pathlib import Path

from shared.adapters.warehouse.snowflake import schema_ddl

DDL_FILE = Path(__file__).resolve().parents[3] / "infrastructure/snowflake/03_bronze_tables.sql"


def _normalise(statement: str) -> str:
    text = re.sub(r"\s+", " ", statement).strip().rstrip(";").strip()
    return text.replace("( ", "(").replace(" )", ")")


def _file_statements() -> set[str]:
    body = "\n".join(
        line for line in DDL_FILE.read_text().splitlines() if not line.lstrip().startswith("--")
    )
    return {_normalise(s) for s in body.split(";") if s.strip().upper().startswith("CREATE")}


def test_ddl_file_creates_exactly_what_the_adapter_creates() -> None:
    adapter = {_normalise(s) for s in schema_ddl("WHOOP.BRONZE") if "CREATE SCHEMA" not in s}
    in_file = _file_statements()
    assert adapter - in_file == set(), "adapter DDL missing from the SQL file"
    extra_tables = {s for s in in_file - adapter if " TABLE " in s}
    assert extra_tables == set(), "SQL file creates tables the adapter does not"
