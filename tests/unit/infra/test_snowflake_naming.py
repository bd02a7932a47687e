"""Every consumer of Snowflake names agrees with shared/shared/snowflake_naming.json.

Consumers that read the file (the Snowflake Terraform module, the Azure container apps, the
service settings) are checked to read it; those that carry copies (dbt profile and project,
the dbt BI models and their macro, Power BI's parameters and tables) are compared with it.
Each check is a function of (naming document, repository texts) so a seeded mismatch in a
mutated copy of the naming document must make it fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import PlatformSettings
from shared.snowflake_naming import NAMING_FILE, SnowflakeNaming, naming, parse_naming

ROOT = Path(__file__).resolve().parents[3]
DBT = ROOT / "dbt_project"
PBI = ROOT / "powerbi/WHOOP.SemanticModel/definition"
TF = ROOT / "infrastructure/snowflake/terraform"
APPS = ROOT / "infrastructure/azure/modules/container_apps/locals.tf"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _env_default(text: str, var: str) -> str:
    m = re.search(rf"env_var\('{var}', '([^']*)'\)", text)
    assert m, var
    return m.group(1)


def dbt_profile(n: SnowflakeNaming) -> list[str]:
    out = yaml.safe_load(_read(DBT / "profiles.yml"))["whoop_platform"]["outputs"]["snowflake"]
    svc = n.services["transformer"]
    got = {
        "role": _env_default(out["role"], "WDP_SNOWFLAKE_ROLE"),
        "warehouse": _env_default(out["warehouse"], "WDP_SNOWFLAKE_WAREHOUSE"),
        "database": _env_default(out["database"], "WDP_SNOWFLAKE_DATABASE"),
        "schema": out["schema"].upper(),
    }
    want = {
        "role": svc.role,
        "warehouse": svc.warehouse,
        "database": n.database,
        "schema": svc.schema,
    }
    return [f"profiles.yml {k}: {got[k]} != {want[k]}" for k in want if got[k] != want[k]]


def dbt_schemas(n: SnowflakeNaming) -> list[str]:
    models = yaml.safe_load(_read(DBT / "dbt_project.yml"))["models"]["whoop_platform"]
    problems = []
    for folder, key in (("staging", "silver"), ("marts", "gold"), ("bi", "gold_bi")):
        if models[folder]["+schema"].upper() != n.schemas[key]:
            problems.append(f"dbt {folder} schema {models[folder]['+schema']} != {n.schemas[key]}")
    hook = _read(DBT / "macros/dq.sql")
    if f"create schema if not exists {n.schemas['silver'].lower()}" not in hook:
        problems.append("dq_test_failures hook schema")
    return problems


def dbt_bi_views(n: SnowflakeNaming) -> list[str]:
    problems = []
    sources = yaml.safe_load(_read(DBT / "models/bi/_gold_published__sources.yml"))["sources"][0]
    if sources["schema"] != n.published("gold"):
        problems.append(f"BI source schema {sources['schema']} != {n.published('gold')}")
    if {t["name"].upper() for t in sources["tables"]} != set(n.bi_views):
        problems.append("BI source tables != bi_views")
    views: dict[str, str | None] = {}
    for path in sorted((DBT / "models/bi").glob("bi_*.sql")):
        text = _read(path)
        alias = re.search(r"alias='(\w+)'", text)
        member = re.search(r"wdp_member_access_policy\('(\w+)'\)", text)
        if not alias or "secure=true" not in text:
            problems.append(f"{path.name}: not a secure view with an alias")
            continue
        views[alias.group(1).upper()] = member.group(1) if member else None
    if views != n.bi_views:
        problems.append(f"dbt BI views {views} != naming {n.bi_views}")
    macro = _read(DBT / "macros/member_access.sql")
    policy = f"{n.schemas['governance']}.{n.raw['row_access_policy']}"
    if f"{{{{ target.database }}}}.{policy} on" not in macro:
        problems.append(f"member_access macro does not attach {policy}")
    return problems


def powerbi(n: SnowflakeNaming) -> list[str]:
    text = _read(PBI / "expressions.tmdl")

    def param(name: str) -> str:
        m = re.search(rf'^expression {name} = "([^"]*)"', text, re.M)
        return m.group(1) if m else f"<no {name}>"

    want = {
        "SnowflakeDatabase": n.database,
        "SnowflakeWarehouse": n.warehouses["bi_reader"],
        "SnowflakeRole": n.roles["bi_reader"],
        "SnowflakeBiSchema": n.schemas["gold_bi"],
    }
    problems = [f"Power BI {k} = {param(k)} != {v}" for k, v in want.items() if param(k) != v]
    used = {
        m.upper()
        for p in (PBI / "tables").glob("*.tmdl")
        for m in re.findall(r'GoldTable\("(\w+)"\)', _read(p))
    }
    if not used <= set(n.bi_views):
        problems.append(f"Power BI reads gold tables without a BI view: {used - set(n.bi_views)}")
    return problems


def settings(n: SnowflakeNaming) -> list[str]:
    s = PlatformSettings.model_fields
    got = (s["snowflake_database"].default, s["snowflake_schema"].default)
    want = (n.database, n.services["loader"].schema)
    return [] if got == want else [f"PlatformSettings defaults {got} != {want}"]


def terraform_reads_the_naming_file(n: SnowflakeNaming) -> list[str]:  # noqa: ARG001
    rel = "shared/shared/snowflake_naming.json"
    problems = []
    for path in (TF / "locals.tf", APPS):
        if rel not in _read(path) or "jsondecode(file(" not in _read(path):
            problems.append(f"{path.relative_to(ROOT)} does not read {rel}")
    apps = _read(APPS)
    for var in ("USER", "ROLE", "WAREHOUSE", "SCHEMA", "DATABASE"):
        if not re.search(rf"WDP_SNOWFLAKE_{var}\s*=\s*local\.snowflake_naming", apps):
            problems.append(f"container apps WDP_SNOWFLAKE_{var} is not from the naming file")
    return problems


def grants_use_naming_keys(n: SnowflakeNaming) -> list[str]:
    doc = json.loads(_read(TF / "grants.json"))
    keys = {
        "database": {"database"},
        "warehouse": set(n.warehouses),
        "schema": set(n.schemas),
        "future_tables": set(n.schemas),
        "future_views": set(n.schemas),
        "stage": {"external_stage"},
        "row_access_policy": {"member_access"},
    }
    problems = [
        f"grants.json: {g}"
        for g in doc["grants"]
        if g["role"] not in n.roles or g["object"] not in keys.get(g["on"], set())
    ]
    roles = {r for r, ps in doc["role_grants"].items() for r in [r, *ps]}
    problems += [f"grants.json role {r} not in naming" for r in roles - set(n.roles)]
    return problems


CHECKS: list[Callable[[SnowflakeNaming], list[str]]] = [
    dbt_profile,
    dbt_schemas,
    dbt_bi_views,
    powerbi,
    settings,
    terraform_reads_the_naming_file,
    grants_use_naming_keys,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_consumer_agrees_with_the_naming_source(
    check: Callable[[SnowflakeNaming], list[str]],
) -> None:
    assert check(naming()) == []


def _mutated(edit: Callable[[dict[str, Any]], None]) -> SnowflakeNaming:
    raw = copy.deepcopy(json.loads(NAMING_FILE.read_text(encoding="utf-8")))
    edit(raw)
    return parse_naming(raw)


def _rename_bi_reader_role(raw: dict[str, Any]) -> None:
    raw["roles"]["reader"] = raw["roles"].pop("bi_reader")


MUTATIONS: dict[
    str, tuple[Callable[[dict[str, Any]], None], Callable[[SnowflakeNaming], list[str]]]
] = {
    "transformer warehouse": (
        lambda r: r["warehouses"].update(transformer="OTHER_WH"),
        dbt_profile,
    ),
    "bi schema (dbt)": (lambda r: r["schemas"].update(gold_bi="BI"), dbt_schemas),
    "bi schema (Power BI)": (lambda r: r["schemas"].update(gold_bi="BI"), powerbi),
    "bi view renamed": (
        lambda r: r["bi_views"].update(DAILY_RECOVERY=r["bi_views"].pop("FACT_DAILY_RECOVERY")),
        dbt_bi_views,
    ),
    "bi view dropped (Power BI)": (lambda r: r["bi_views"].pop("FACT_PREDICTIONS"), powerbi),
    "member column": (lambda r: r["bi_views"].update(MART_DATA_QUALITY="user_key"), dbt_bi_views),
    "database": (lambda r: r.update(database="WHOOP2"), settings),
    "bi role": (lambda r: r["roles"].update(bi_reader="BI_READER"), powerbi),
    "role key": (_rename_bi_reader_role, grants_use_naming_keys),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_seeded_naming_mismatch_fails(name: str) -> None:
    edit, check = MUTATIONS[name]
    assert check(_mutated(edit)) != []
