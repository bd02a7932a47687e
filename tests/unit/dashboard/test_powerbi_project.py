"""The Power BI project (``powerbi/``) is valid and matches the gold contract.

* every PBIR/PBIP JSON file validates against the schema its ``$schema`` names (Microsoft's
  published schemas, copied under ``powerbi_schemas/``; resolved offline);
* the report's pages and visuals are wired consistently and only reference model fields that
  exist;
* the TMDL semantic model (parsed minimally) has exactly the gold columns of
  ``docs/data-model.md`` (and of the dbt contracts for the tables the doc only describes), with
  types compatible with the warehouse, and relationships between existing, same-typed columns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from jsonschema.validators import validator_for
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parents[3]
PBI = REPO / "powerbi"
MODEL = PBI / "WHOOP.SemanticModel" / "definition"
REPORT = PBI / "WHOOP.Report"
SCHEMAS = Path(__file__).resolve().parent / "powerbi_schemas"
SCHEMA_PREFIX = "https://developer.microsoft.com/json-schemas/"
DATA_MODEL_DOC = REPO / "docs" / "data-model.md"
DBT_CONTRACTS = REPO / "dbt_project" / "models" / "marts" / "core" / "_core__models.yml"

GOLD_TABLES = (
    "fact_daily_recovery",
    "fact_sleep",
    "fact_strain",
    "fact_workouts",
    "fact_predictions",
    "dim_date",
    "dim_activity_type",
    "dim_sleep_stage",
    "agg_weekly_user",
    "agg_monthly_user",
    "mart_data_quality",
)
#: The doc describes these in prose; their columns are fixed by the enforced dbt contracts.
CONTRACT_ONLY = ("agg_weekly_user", "agg_monthly_user", "mart_data_quality")
REQUIRED_MEASURES = {
    ("fact_daily_recovery", "Avg Recovery"),
    ("fact_daily_recovery", "% Green Days"),
    ("fact_daily_recovery", "Avg HRV"),
    ("fact_strain", "Avg Strain"),
    ("fact_sleep", "Sleep Efficiency"),
    ("fact_predictions", "Prediction MAE"),
}
#: warehouse type → TMDL dataType the column must have.
TYPE_MAP = {
    "bigint": "int64",
    "integer": "int64",
    "double": "double",
    "varchar": "string",
    "boolean": "boolean",
    "timestamp": "dateTime",
    "date": "dateTime",
}


# --- JSON schemas ----------------------------------------------------------------------------


def _retrieve(uri: str) -> Resource[Any]:
    assert uri.startswith(SCHEMA_PREFIX), f"schema outside the copied set: {uri}"
    path = SCHEMAS / uri.removeprefix(SCHEMA_PREFIX)
    assert path.exists(), f"schema {uri} is not copied under {SCHEMAS}"
    return Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))


REGISTRY: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]


def _json_files() -> list[Path]:
    suffixes = {".json", ".pbir", ".pbism", ".pbip", ".platform"}
    return sorted(
        p
        for p in PBI.rglob("*")
        if p.is_file()
        and (p.suffix in suffixes or p.name == ".platform")
        and "StaticResources" not in p.parts
    )


def test_project_has_the_pbip_layout() -> None:
    for path in (
        PBI / "WHOOP.pbip",
        REPORT / "definition.pbir",
        REPORT / "definition" / "report.json",
        REPORT / "definition" / "version.json",
        REPORT / "definition" / "pages" / "pages.json",
        PBI / "WHOOP.SemanticModel" / "definition.pbism",
        MODEL / "database.tmdl",
        MODEL / "model.tmdl",
        MODEL / "expressions.tmdl",
        MODEL / "relationships.tmdl",
    ):
        assert path.is_file(), path
    assert len(_json_files()) > 10


@pytest.mark.parametrize("path", _json_files(), ids=lambda p: str(p.relative_to(PBI)))
def test_json_file_validates_against_its_schema(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    schema_url = document.get("$schema")
    assert schema_url, f"{path} names no $schema"
    schema = _retrieve(schema_url).contents
    validator_cls = validator_for(schema)
    validator = validator_cls(schema, registry=REGISTRY)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_schema_validation_catches_a_broken_visual() -> None:
    """Guard against a validator that accepts anything (e.g. unresolved refs)."""
    visual = next((REPORT / "definition" / "pages").rglob("visual.json"))
    document = json.loads(visual.read_text(encoding="utf-8"))
    del document["position"]
    document["visual"]["query"]["queryState"]["Y"] = {"projections": [{"queryRef": "x"}]}
    schema = _retrieve(document["$schema"]).contents
    validator = validator_for(schema)(schema, registry=REGISTRY)
    messages = [e.message for e in validator.iter_errors(document)]
    assert any("position" in m for m in messages)
    assert any("field" in m for m in messages)


def test_shortcut_and_report_point_at_existing_items() -> None:
    pbip = json.loads((PBI / "WHOOP.pbip").read_text(encoding="utf-8"))
    for artifact in pbip["artifacts"]:
        assert (PBI / artifact["report"]["path"]).is_dir()
    pbir = json.loads((REPORT / "definition.pbir").read_text(encoding="utf-8"))
    model_dir = (REPORT / pbir["datasetReference"]["byPath"]["path"]).resolve()
    assert model_dir == (PBI / "WHOOP.SemanticModel").resolve()


# --- TMDL ----------------------------------------------------------------------------------


@dataclass
class TmdlTable:
    name: str
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    measures: set[str] = field(default_factory=set)
    partitions: dict[str, str] = field(default_factory=dict)  # name -> source text


def _unquote(name: str) -> str:
    name = name.strip()
    return name[1:-1].replace("''", "'") if name.startswith("'") else name


_OBJECT = re.compile(r"^\t(column|measure|partition) ('(?:[^']|'')+'|[^\s=]+)(.*)$")
_PROPERTY = re.compile(r"^\t\t(\w+)(?::\s*(.*))?$")


def parse_table(path: Path) -> TmdlTable:
    """Minimal TMDL: the table line, its columns (with properties), measures and partitions."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("table "))
    table = TmdlTable(name=_unquote(header.removeprefix("table ")))
    current: tuple[str, str] | None = None
    for line in lines:
        obj = _OBJECT.match(line)
        if obj:
            kind, name = obj.group(1), _unquote(obj.group(2))
            current = (kind, name)
            if kind == "column":
                table.columns[name] = {}
            elif kind == "measure":
                table.measures.add(name)
            else:
                table.partitions[name] = obj.group(3)
            continue
        if current is None or not line.startswith("\t\t"):
            if line and not line.startswith("\t"):
                current = None
            continue
        kind, name = current
        prop = _PROPERTY.match(line)
        if kind == "column" and prop:
            table.columns[name][prop.group(1)] = (prop.group(2) or "").strip()
        elif kind == "partition":
            table.partitions[name] += "\n" + line.strip()
    return table


def _tables() -> dict[str, TmdlTable]:
    tables = [parse_table(p) for p in sorted((MODEL / "tables").glob("*.tmdl"))]
    return {t.name: t for t in tables}


def _doc_columns() -> dict[str, list[str]]:
    """Gold columns per table from the table in docs/data-model.md (prose rows skipped)."""
    text = DATA_MODEL_DOC.read_text(encoding="utf-8")
    gold = text[text.index("## Gold") :]
    out: dict[str, list[str]] = {}
    for row in re.finditer(r"^\| `([a-z_]+)`(?: / `([a-z_]+)`)? \| [^|]* \| (.*) \|$", gold, re.M):
        cell = re.sub(r"\([^)]*\)", "", row.group(3))  # drop "(notes, with commas)"
        cell = cell.split(":")[-1]  # "written by the scorer, not dbt: user_key, ..."
        names = [re.sub(r"`", "", part).strip().split(" ")[0] for part in cell.split(",")]
        if all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names):
            for table in filter(None, (row.group(1), row.group(2))):
                out[table] = names
    return out


def _contract_columns() -> dict[str, list[tuple[str, str]]]:
    models = yaml.safe_load(DBT_CONTRACTS.read_text(encoding="utf-8"))["models"]
    return {
        m["name"]: [(c["name"], str(c.get("data_type", ""))) for c in m["columns"]] for m in models
    }


def test_doc_parser_finds_the_listed_gold_tables() -> None:
    docs = _doc_columns()
    assert set(GOLD_TABLES) - set(CONTRACT_ONLY) <= set(docs)
    assert "recovery_band" in docs["fact_daily_recovery"]
    assert docs["fact_predictions"][:2] == ["user_key", "date_key"]


def test_every_gold_table_is_in_the_model_with_exactly_its_columns() -> None:
    tables = _tables()
    docs = _doc_columns()
    contracts = _contract_columns()
    for name in GOLD_TABLES:
        assert name in tables, f"{name} missing from the semantic model"
        expected = [c for c, _ in contracts[name]] if name in CONTRACT_ONLY else docs[name]
        assert list(tables[name].columns) == expected, name
        for column, props in tables[name].columns.items():
            assert props.get("sourceColumn") == column, (name, column)


def test_column_types_are_compatible_with_the_warehouse() -> None:
    tables = _tables()
    contracts = _contract_columns()
    for name, columns in contracts.items():
        if name not in tables:
            continue
        for column, data_type in columns:
            got = tables[name].columns[column]["dataType"]
            if "array" in data_type or "[]" in data_type:
                assert got == "string", (name, column)  # arrays arrive as JSON text
            else:
                assert got == TYPE_MAP[data_type], (name, column, data_type, got)


def test_gold_tables_load_through_the_switchable_source_function() -> None:
    tables = _tables()
    expressions = (MODEL / "expressions.tmdl").read_text(encoding="utf-8")
    for parameter in ("SnowflakeServer", "SnowflakeWarehouse", "SnowflakeDatabase", "GoldSchema"):
        assert re.search(rf"^expression {parameter} = .*IsParameterQuery = true", expressions, re.M)
    assert "expression GoldTable =" in expressions and "Snowflake.Databases(" in expressions
    for name in GOLD_TABLES:
        sources = "\n".join(tables[name].partitions.values())
        assert f'GoldTable("{name}")' in sources, name


def test_required_measures_exist() -> None:
    tables = _tables()
    have = {(t.name, m) for t in tables.values() for m in t.measures}
    assert REQUIRED_MEASURES <= have


def _relationships() -> list[tuple[str, str, str, str]]:
    text = (MODEL / "relationships.tmdl").read_text(encoding="utf-8")
    out = []
    for block in text.split("relationship ")[1:]:
        ends = dict(re.findall(r"^\t(fromColumn|toColumn): (.+)$", block, re.M))
        from_table, from_column = ends["fromColumn"].rsplit(".", 1)
        to_table, to_column = ends["toColumn"].rsplit(".", 1)
        out.append(
            (_unquote(from_table), _unquote(from_column), _unquote(to_table), _unquote(to_column))
        )
    return out


def test_relationships_join_existing_columns_of_the_same_type() -> None:
    tables = _tables()
    rels = _relationships()
    assert rels
    for from_table, from_column, to_table, to_column in rels:
        assert from_column in tables[from_table].columns, (from_table, from_column)
        assert to_column in tables[to_table].columns, (to_table, to_column)
        assert (
            tables[from_table].columns[from_column]["dataType"]
            == tables[to_table].columns[to_column]["dataType"]
        )
    keys = {(f, c) for f, c, _, _ in rels}
    for fact in ("fact_daily_recovery", "fact_sleep", "fact_strain", "fact_workouts"):
        assert (fact, "user_key") in keys and (fact, "date_key") in keys
    assert ("fact_predictions", "date_key") in keys
    assert ("fact_workouts", "activity_type_key") in keys


# --- report ↔ model ------------------------------------------------------------------------


def _fields(node: Any) -> list[tuple[str, str, str]]:
    """Every (kind, entity, property) a visual's query references."""
    found: list[tuple[str, str, str]] = []
    if isinstance(node, dict):
        for kind in ("Column", "Measure"):
            ref = node.get(kind)
            if isinstance(ref, dict) and "Property" in ref:
                found.append((kind, ref["Expression"]["SourceRef"]["Entity"], ref["Property"]))
        for value in node.values():
            found.extend(_fields(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_fields(value))
    return found


def test_pages_and_visuals_are_consistent_and_reference_model_fields() -> None:
    tables = _tables()
    pages_dir = REPORT / "definition" / "pages"
    meta = json.loads((pages_dir / "pages.json").read_text(encoding="utf-8"))
    folders = sorted(p.name for p in pages_dir.iterdir() if p.is_dir())
    assert sorted(meta["pageOrder"]) == folders and len(folders) >= 3
    for folder in folders:
        page = json.loads((pages_dir / folder / "page.json").read_text(encoding="utf-8"))
        assert page["name"] == folder
        visuals = sorted((pages_dir / folder / "visuals").glob("*/visual.json"))
        assert visuals, folder
        for path in visuals:
            visual = json.loads(path.read_text(encoding="utf-8"))
            assert visual["name"] == path.parent.name
            pos = visual["position"]
            assert pos["x"] + pos["width"] <= page["width"], path
            assert pos["y"] + pos["height"] <= page["height"], path
            refs = _fields(visual["visual"].get("query", {}))
            assert refs, path
            for kind, entity, prop in refs:
                table = tables[entity]
                bucket = table.columns if kind == "Column" else table.measures
                assert prop in bucket, (path.relative_to(PBI), kind, entity, prop)
