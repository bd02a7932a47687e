"""Every SQL file under infrastructure/snowflake parses in sqlglot's Snowflake dialect.

The emulator (fakesnow) cannot run Snowpipe, streams and tasks, row access policies or
clone/swap, so these files are at least parsed in ``make test``; statements sqlglot can only
keep as an opaque ``Command`` must still name a known Snowflake statement.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from shared.adapters.warehouse.snowflake import publish_statements
from shared.snowflake_naming import naming

SNOWFLAKE_DIR = Path(__file__).resolve().parents[3] / "infrastructure" / "snowflake"
SQL_FILES = sorted(SNOWFLAKE_DIR.rglob("*.sql"))
#: statements sqlglot keeps as text (no AST); they must start with one of these
COMMANDS = ("CREATE", "ALTER", "PUT", "COPY", "SHOW", "GRANT", "EXECUTE", "USE", "DESC")
#: sqlglot has no grammar for policy DDL: the header is matched, the body parsed as SQL
POLICY = re.compile(
    r"(?is)CREATE (?:OR REPLACE )?ROW ACCESS POLICY (?:IF NOT EXISTS )?[\w.]+ "
    r"AS \(\w+ \w+(?:, \w+ \w+)*\)\s+RETURNS BOOLEAN ->([^;]*);"
)


def _parse(text: str) -> list[exp.Expression]:
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    text = POLICY.sub(lambda m: f"SELECT {m.group(1)};", text)
    return [s for s in sqlglot.parse(text, read="snowflake") if s is not None]


def test_there_are_sql_files_including_worksheets() -> None:
    assert len(SQL_FILES) >= 8
    assert any(p.parent.name == "worksheets" for p in SQL_FILES)


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(SNOWFLAKE_DIR)))
def test_sql_file_parses_in_the_snowflake_dialect(path: Path) -> None:
    parsed = _parse(path.read_text(encoding="utf-8"))
    assert parsed, path
    for stmt in parsed:
        if isinstance(stmt, exp.Command):
            assert str(stmt.this).upper().startswith(COMMANDS), stmt.sql()[:80]


def test_publish_with_the_gold_publisher_role_parses() -> None:
    stmts = publish_statements(
        "WHOOP",
        ["gold.fact_predictions"],
        publish_roles=naming().publish_roles,
        session_role=naming().roles["scorer"],
    )
    assert stmts[0] == "USE ROLE WDP_GOLD_PUBLISHER" and stmts[-1] == "USE ROLE WDP_SCORER"
    for stmt in stmts:
        assert sqlglot.parse_one(stmt, read="snowflake") is not None
