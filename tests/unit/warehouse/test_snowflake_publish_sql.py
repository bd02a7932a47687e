"""Snowflake write-audit-publish SQL: the emulator cannot run CLONE/SWAP, so parse it."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from shared.adapters.warehouse.snowflake import publish_statements


def test_publish_statements_parse_in_the_snowflake_dialect_and_swap_last() -> None:
    stmts = publish_statements(
        "whoop", ["gold.fact_sleep", "gold.dim_date", "bronze.quarantine_files"]
    )
    parsed = [sqlglot.parse_one(s, read="snowflake") for s in stmts]
    assert all(p is not None for p in parsed)
    gold = [s for s in stmts if "GOLD" in s]
    assert gold[0] == "CREATE SCHEMA IF NOT EXISTS WHOOP.GOLD_PUBLISHED"
    assert gold[1] == "CREATE OR REPLACE SCHEMA WHOOP.GOLD_PUBLISH_NEXT CLONE WHOOP.GOLD_PUBLISHED"
    clones = [s for s in gold if s.startswith("CREATE OR REPLACE TABLE")]
    assert clones == [
        "CREATE OR REPLACE TABLE WHOOP.GOLD_PUBLISH_NEXT.FACT_SLEEP CLONE WHOOP.GOLD.FACT_SLEEP",
        "CREATE OR REPLACE TABLE WHOOP.GOLD_PUBLISH_NEXT.DIM_DATE CLONE WHOOP.GOLD.DIM_DATE",
    ]
    # the swap is the only statement readers can observe, and it comes after every clone
    assert gold[-2] == "ALTER SCHEMA WHOOP.GOLD_PUBLISHED SWAP WITH WHOOP.GOLD_PUBLISH_NEXT"
    assert gold[-1] == "DROP SCHEMA IF EXISTS WHOOP.GOLD_PUBLISH_NEXT"
    tables = {t.name.upper() for p in parsed for t in p.find_all(exp.Table)}
    assert {"FACT_SLEEP", "DIM_DATE", "QUARANTINE_FILES"} <= tables


@pytest.mark.parametrize("bad", ["fact_sleep", "gold.fact;drop", "a.b.c", "gold.1x"])
def test_publish_refuses_names_that_are_not_schema_table(bad: str) -> None:
    with pytest.raises(ValueError, match="schema.table"):
        publish_statements("WHOOP", [bad])
