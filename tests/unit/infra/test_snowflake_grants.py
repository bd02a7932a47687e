"""Snowflake grants = exactly what the loader, transformer (dbt), scorer and BI execute.

Statements are collected by ``snowflake_statements`` (real adapters on a recording
connection, dbt's manifest for the snowflake target); the privileges they need are compared
with ``infrastructure/snowflake/terraform/grants.json``, which Terraform applies verbatim.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import snowflake_statements as stm  # noqa: E402

from shared.snowflake_naming import naming  # noqa: E402

GRANTS = stm.ROOT / "infrastructure/snowflake/terraform/grants.json"


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, list[stm.Statement]]:
    n = naming()
    tmp = tmp_path_factory.mktemp("grants")
    manifest = stm.dbt_manifest(tmp / "dbt")
    statements = [
        *stm.loader_statements(n, tmp),
        *stm.scorer_statements(n),
        *stm.transformer_statements(n, manifest),
        *stm.bi_reader_statements(n),
    ]
    required, roles = stm.required_privileges(n, statements)
    return required, roles, statements


def _grants() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(GRANTS.read_text())
    return doc


def test_every_role_is_granted_exactly_what_its_statements_need(derived: Any) -> None:
    required, roles, _ = derived
    assert stm.grant_problems(required, roles, _grants()) == []


def test_statements_cover_the_issue_list(derived: Any) -> None:
    _, _, statements = derived
    by_role: dict[str, str] = {}
    for st in statements:
        by_role[st.role] = by_role.get(st.role, "") + "\n" + st.sql.upper()
    for needle in ("PUT 'FILE://", "COPY INTO", "INSERT INTO"):
        assert needle in by_role["loader"]
    for needle in (
        "MERGE INTO",
        "CREATE OR REPLACE SECURE VIEW",
        "DQ_TEST_FAILURES",
        "ADD ROW ACCESS POLICY",
        "SWAP WITH",
    ):
        assert needle in by_role["transformer"] + by_role["gold_publisher"], needle
    for needle in (
        "CREATE TABLE IF NOT EXISTS GOLD.FACT_PREDICTIONS",
        "MERGE INTO GOLD.FACT_",
        "DELETE FROM GOLD.FACT_PREDICTIONS",
        "USE ROLE WDP_GOLD_PUBLISHER",
    ):
        assert needle in by_role["scorer"], needle
    assert "CLONE WHOOP.GOLD.FACT_PREDICTIONS" in by_role["gold_publisher"]


def _drop_one(doc: dict[str, Any]) -> None:
    doc["grants"] = [g for g in doc["grants"] if g["on"] != "row_access_policy"]


def _add_one(doc: dict[str, Any]) -> None:
    doc["grants"].append(
        {"role": "scorer", "on": "future_tables", "object": "gold", "privileges": ["DELETE"]}
    )


def _widen_hierarchy(doc: dict[str, Any]) -> None:
    doc["role_grants"]["scorer"].append("transformer")


@pytest.mark.parametrize("mutate", [_drop_one, _add_one, _widen_hierarchy])
def test_a_seeded_grant_mismatch_is_reported(derived: Any, mutate: Any) -> None:
    required, roles, _ = derived
    doc = copy.deepcopy(_grants())
    mutate(doc)
    assert stm.grant_problems(required, roles, doc)


def test_the_scorer_could_not_write_predictions_with_select_only(derived: Any) -> None:
    """The committed SQL's bug (SELECT ON FUTURE TABLES only) is what the derivation catches."""
    required, roles, _ = derived
    doc = {
        "role_grants": {},
        "grants": [
            {"role": "scorer", "on": "future_tables", "object": "gold", "privileges": ["SELECT"]}
        ],
    }
    problems = stm.grant_problems(required, roles, doc)
    assert any("'scorer', 'CREATE TABLE', 'schema', 'gold'" in p for p in problems)
