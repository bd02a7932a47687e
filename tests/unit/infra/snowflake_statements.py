"""What each Snowflake workload executes, and the privileges those statements need.

Statements come from the code that runs them wherever that is possible offline:

* loader and scorer: the real ``SnowflakeWarehouse`` / ``PredictionRepository`` driven against a
  recording fake connection (every ``cursor.execute`` is captured with the session's role);
* transformer: ``SnowflakeWarehouse.publish`` for its publish clone/swap, its DQ-failure insert
  and member purge as written in the service, and dbt's materialisations derived from the
  manifest of ``dbt parse --target snowflake`` (table / incremental merge / secure view per
  model, the dq_test_failures hook, the row-access-policy post-hook of the BI views and one
  read per ``ref``/``source``);
* Power BI: a ``SELECT`` of every BI view as ``WDP_BI_READER``.

``required_privileges`` then derives Snowflake privileges from each statement (creating needs
CREATE on the schema, reading what another role owns needs SELECT, ``USE ROLE`` needs the role,
``SWAP`` needs ownership of both schemas, ...). Privileges on objects a role owns (it created
them) need no grant. Granularity = what grants.json can express before the objects exist:
account objects, schemas, future tables/views of a schema, named stage / policy.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlglot
from sqlglot import exp

from scorer.domain.scoring import PREDICTION_COLUMNS
from scorer.repository import PredictionRepository
from shared.adapters.warehouse.snowflake import SnowflakeWarehouse
from shared.ports.warehouse import BronzeFile
from shared.snowflake_naming import SnowflakeNaming

ROOT = Path(__file__).resolve().parents[3]
DBT_DIR = ROOT / "dbt_project"

#: (role key, privilege, target kind, target key) — target keys are naming keys.
Privilege = tuple[str, str, str, str]


@dataclass
class Statement:
    role: str  # role key in the naming source: the session's current role
    login: str  # the role the session logged in with (switching back to it needs no grant)
    sql: str
    database: str
    schema: str


@dataclass
class Recorder:
    naming: SnowflakeNaming
    role: str
    database: str
    schema: str
    statements: list[Statement] = field(default_factory=list)
    login: str = ""

    def __post_init__(self) -> None:
        self.login = self.login or self.role

    def record(self, sql: str) -> None:
        text = " ".join(sql.split())
        m = re.match(r"(?i)USE ROLE (\w+)$", text)
        self.statements.append(Statement(self.role, self.login, text, self.database, self.schema))
        if m:
            by_name = {v: k for k, v in self.naming.roles.items()}
            self.role = by_name[m.group(1).upper()]


class _FakeCursor:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def execute(self, sql: str, params: Any = None) -> None:  # noqa: ARG002
        self.recorder.record(sql)

    def executemany(self, sql: str, seq: Any) -> None:  # noqa: ARG002
        self.recorder.record(sql)

    def fetchall(self) -> list[dict[str, Any]]:
        return [{"N": 0}] if "count(" in self.recorder.statements[-1].sql.lower() else []

    def close(self) -> None:
        pass


class _FakeConnection:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def cursor(self, *_: Any) -> _FakeCursor:
        return _FakeCursor(self.recorder)

    def is_closed(self) -> bool:
        return False

    def close(self) -> None:
        pass


class RecordingWarehouse(SnowflakeWarehouse):
    """The production adapter with its connection replaced by a statement recorder."""

    def __init__(self, recorder: Recorder, **kwargs: Any) -> None:
        role = recorder.naming.roles[recorder.role]
        super().__init__(
            {"role": role},
            database=recorder.database,
            schema=recorder.schema,
            publish_roles=recorder.naming.publish_roles,
            **kwargs,
        )
        self.recorder = recorder

    def _connection(self) -> Any:
        if self._conn is None:
            self.recorder.record(f"USE DATABASE {self.database}")
            self.recorder.record(f"USE SCHEMA {self.fq}")
            self._conn = _FakeConnection(self.recorder)  # type: ignore[assignment]
        return self._conn


def _recorder(n: SnowflakeNaming, service: str) -> Recorder:
    svc = n.services[service]
    role = {v: k for k, v in n.roles.items()}[svc.role]
    return Recorder(n, role, n.database, svc.schema)


def loader_statements(n: SnowflakeNaming, tmp: Path) -> list[Statement]:
    """ensure_schema + a micro-batch through the internal stage and through the external one."""
    rec = _recorder(n, "loader")
    page = tmp / "page.ndjson.gz"
    page.write_bytes(
        gzip.compress(b'{"id": 1, "user_id": 7, "updated_at": "2025-01-01T00:00:00Z"}\n')
    )
    files = [BronzeFile("bronze/whoop/sleep/user_id=7/x.ndjson.gz", page, "sleep", "e1")]
    internal = RecordingWarehouse(rec)
    internal.ensure_schema()
    internal.load_bronze("b1", files)
    stage = f"{n.database}.{n.schemas['bronze']}.{n.raw['external_stage']}"
    external = RecordingWarehouse(rec, external_stage=stage)
    external.ensure_schema()
    external.load_bronze("b2", files)
    # member purge (shared.warehouse_purge.delete_user_rows) on the raw tables it owns
    rec.record("delete from bronze.raw_sleep where user_id = 7")
    return rec.statements


def scorer_statements(n: SnowflakeNaming) -> list[Statement]:
    rec = _recorder(n, "scorer")
    repo = PredictionRepository(RecordingWarehouse(rec))
    repo.ensure_table()
    row = dict.fromkeys(PREDICTION_COLUMNS, None) | {
        "user_key": 7,
        "date_key": 20250101,
        "model_name": "m",
        "model_version": "1",
        "scored_at": datetime(2025, 1, 1, tzinfo=UTC),
        "run_id": "r",
    }
    repo.write(
        7, ["m"], pd.DataFrame([row], columns=list(PREDICTION_COLUMNS)), run_id="r", since=None
    )
    repo.delete_user(7)
    rec.record("delete from gold.fact_predictions where user_key = 7")
    repo.users_with_gold()
    rec.record("select * from gold.fact_daily_recovery where user_key = 7")  # ml.data.read_gold
    for table in ("fact_sleep", "fact_strain", "fact_workouts"):
        rec.record(f"select * from gold.{table} where user_key = 7")
    repo.publish()
    return rec.statements


def dbt_manifest(target_path: Path) -> dict[str, Any]:
    subprocess.run(
        [
            "dbt",
            "parse",
            "--profiles-dir",
            ".",
            "--target",
            "snowflake",
            "--target-path",
            str(target_path),
            "--quiet",
            "--vars",
            "{wdp_bi_views: true}",
        ],
        cwd=DBT_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    manifest: dict[str, Any] = json.loads((target_path / "manifest.json").read_text())
    return manifest


def _relation(node: dict[str, Any]) -> str:
    name = node.get("alias") or node.get("identifier") or node["name"]
    return f"{node['database']}.{node['schema']}.{name}".upper()


def dbt_models(manifest: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed") and node["config"].get("enabled", True):
            yield node


def transformer_statements(n: SnowflakeNaming, manifest: dict[str, Any]) -> list[Statement]:
    rec = _recorder(n, "transformer")
    rec.record(f"USE DATABASE {n.database}")
    rec.record(f"USE SCHEMA {n.database}.{n.services['transformer'].schema}")
    # on-run-start hooks (dbt_project/macros/dq.sql)
    rec.record("create schema if not exists silver")
    rec.record("create table if not exists silver.dq_test_failures (run_id varchar)")
    nodes = {**manifest["nodes"], **manifest["sources"]}
    models = list(dbt_models(manifest))
    for node in models:
        rel, cfg = _relation(node), node["config"]
        mat = cfg["materialized"]
        if mat == "view":
            secure = "SECURE " if cfg.get("secure") else ""
            rec.record(f"CREATE OR REPLACE {secure}VIEW {rel} AS SELECT 1 AS X")
        elif mat == "incremental":
            rec.record(f"CREATE OR REPLACE TEMPORARY VIEW {rel}__DBT_TMP AS SELECT 1 AS X")
            rec.record(f"CREATE TABLE IF NOT EXISTS {rel} AS SELECT 1 AS X")
            rec.record(
                f"MERGE INTO {rel} AS t USING {rel}__DBT_TMP AS s ON t.X = s.X "
                "WHEN MATCHED THEN UPDATE SET t.X = s.X"
            )
        else:
            rec.record(f"CREATE OR REPLACE TRANSIENT TABLE {rel} AS SELECT 1 AS X")
        for hook in cfg.get("post-hook", []):
            sql = hook["sql"]
            if "wdp_member_access_policy" in sql:  # dbt_project/macros/member_access.sql
                policy = f"{n.database}.{n.schemas['governance']}.{n.raw['row_access_policy']}"
                rec.record(f"ALTER VIEW {rel} ADD ROW ACCESS POLICY {policy} ON (USER_KEY)")
    for node in models:
        for dep in node.get("depends_on", {}).get("nodes", []):
            if dep in nodes:
                rec.record(f"SELECT * FROM {_relation(nodes[dep])}")
    # transformer.dq_failures and transformer.purge, as written in the service
    rec.record("insert into silver.dq_test_failures (run_id) values (?)")
    rec.record("delete from gold.fact_sleep where user_key = 7")
    # publish: every gold base table but the scorer's, and the bronze quarantine
    gold = sorted(
        f"gold.{node['alias'] or node['name']}"
        for node in models
        if node["schema"].upper() == n.schemas["gold"] and node["config"]["materialized"] != "view"
    )
    tables = [*gold, "bronze.quarantine_files", "bronze.quarantine_records"]
    RecordingWarehouse(rec).publish(tables)
    return rec.statements


def bi_reader_statements(n: SnowflakeNaming) -> list[Statement]:
    rec = Recorder(n, "bi_reader", n.database, n.schemas["gold_bi"])
    for view in n.bi_views:
        rec.record(f"SELECT * FROM {n.database}.{n.schemas['gold_bi']}.{view}")
    return rec.statements


# --- derivation ------------------------------------------------------------------------------

_CREATE = re.compile(
    r"(?i)^CREATE (?:OR REPLACE )?(?:TRANSIENT |TEMPORARY |SECURE )*(SCHEMA|TABLE|VIEW|STAGE) "
    r"(?:IF NOT EXISTS )?([\w.$\"]+)(?: CLONE ([\w.\"]+))?"
)


def _qualify(name: str, st: Statement) -> str:
    parts = [p.strip('"').upper() for p in name.split(".")]
    if len(parts) == 1:
        return f"{st.database}.{st.schema}.{parts[0]}"
    if len(parts) == 2:
        return f"{st.database}.{parts[0]}.{parts[1]}"
    return ".".join(parts)


def _qualify_schema(name: str, st: Statement) -> str:
    parts = [p.strip('"').upper() for p in name.split(".")]
    return ".".join(parts) if len(parts) == 2 else f"{st.database}.{parts[0]}"


@dataclass
class Derivation:
    naming: SnowflakeNaming
    owners: dict[str, str] = field(default_factory=dict)  # object → owning role key
    kinds: dict[str, str] = field(default_factory=dict)  # object → TABLE | VIEW | STAGE
    role_grants: dict[str, set[str]] = field(default_factory=dict)
    required: set[Privilege] = field(default_factory=set)

    def __post_init__(self) -> None:
        n = self.naming
        for schema in n.schemas.values():  # created by Terraform (SYSADMIN)
            self.owners[f"{n.database}.{schema}"] = "admin"
        self.owners[f"{n.database}.{n.schemas['bronze']}.{n.raw['external_stage']}"] = "admin"
        self.kinds[f"{n.database}.{n.schemas['bronze']}.{n.raw['external_stage']}"] = "STAGE"

    def closure(self, role: str) -> set[str]:
        seen, todo = {role}, [role]
        while todo:
            for parent in self.role_grants.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def owns(self, role: str, obj: str) -> bool:
        return self.owners.get(obj) in self.closure(role)

    def schema_key(self, fq_schema: str) -> str:
        schema = fq_schema.split(".")[-1]
        keys = {v: k for k, v in self.naming.schemas.items()}
        if schema not in keys:
            raise AssertionError(f"schema {fq_schema} is neither in the naming source nor owned")
        return keys[schema]

    def need(self, role: str, privilege: str, kind: str, key: str) -> None:
        self.required.add((role, privilege, kind, key))

    def use_schema(self, role: str, fq_schema: str) -> None:
        self.need(role, "USAGE", "database", "database")
        if not self.owns(role, fq_schema):
            self.need(role, "USAGE", "schema", self.schema_key(fq_schema))

    def read(self, role: str, obj: str) -> None:
        schema = obj.rsplit(".", 1)[0]
        if schema.endswith(".INFORMATION_SCHEMA"):
            self.need(role, "USAGE", "database", "database")
            return
        self.use_schema(role, schema)
        if not self.owns(role, obj):
            kind = "future_views" if self.kinds.get(obj) == "VIEW" else "future_tables"
            self.need(role, "SELECT", kind, self.schema_key(schema))

    def write(self, role: str, obj: str, privilege: str) -> None:
        schema = obj.rsplit(".", 1)[0]
        self.use_schema(role, schema)
        if not self.owns(role, obj):
            self.need(role, privilege, "future_tables", self.schema_key(schema))

    # pass 1: who creates what (ownership), and which roles a role switches to
    def learn(self, statements: Iterable[Statement]) -> None:
        for st in statements:
            m = _CREATE.match(st.sql)
            if m and m.group(1).upper() == "SCHEMA":
                obj = _qualify_schema(m.group(2), st)
            elif m:
                obj = _qualify(m.group(2), st)
            else:
                swap = re.match(r"(?i)ALTER SCHEMA ([\w.]+) SWAP WITH ([\w.]+)$", st.sql)
                if swap:  # the children of each schema now live under the other name too
                    a, b = (_qualify_schema(x, st) for x in swap.groups())
                    for obj, owner in list(self.owners.items()):
                        for src, dst in ((a, b), (b, a)):
                            if obj.startswith(src + "."):
                                self.owners.setdefault(dst + obj[len(src) :], owner)
                                self.kinds.setdefault(dst + obj[len(src) :], self.kinds[obj])
                use = re.match(r"(?i)USE ROLE (\w+)$", st.sql)
                if use:
                    target = {v: k for k, v in self.naming.roles.items()}[use.group(1).upper()]
                    if target not in (st.role, st.login):
                        self.role_grants.setdefault(st.role, set()).add(target)
                continue
            self.owners.setdefault(obj, st.role)
            self.kinds.setdefault(obj, m.group(1).upper())

    # pass 2: privileges per statement
    def derive(self, st: Statement) -> None:  # noqa: C901 - one branch per statement kind
        sql, role, up = st.sql, st.role, st.sql.upper()
        if re.match(r"(?i)(BEGIN|COMMIT|ROLLBACK|USE ROLE)\b", sql):
            return
        if m := re.match(r"(?i)USE DATABASE (\w+)$", sql):
            self.need(role, "USAGE", "database", "database")
            return
        if m := re.match(r"(?i)USE SCHEMA ([\w.]+)$", sql):
            self.use_schema(role, _qualify_schema(m.group(1), st))
            return
        if m := _CREATE.match(sql):
            kind = m.group(1).upper()
            if kind == "SCHEMA":
                self.need(role, "USAGE", "database", "database")
                self.need(role, "CREATE SCHEMA", "database", "database")
                if m.group(3):
                    source = _qualify_schema(m.group(3), st)
                    if not self.owns(role, source):
                        self.use_schema(role, source)
                return
            obj = _qualify(m.group(2), st)
            schema = obj.rsplit(".", 1)[0]
            self.use_schema(role, schema)
            if not self.owns(role, schema):
                self.need(role, f"CREATE {kind}", "schema", self.schema_key(schema))
            if m.group(3):
                self.read(role, _qualify(m.group(3), st))
            if " AS SELECT " in up:
                self._reads(role, st, sql[up.index(" AS SELECT ") + 4 :])
            return
        if m := re.match(r"(?i)ALTER SCHEMA ([\w.]+) SWAP WITH ([\w.]+)$", sql):
            for name in m.groups():
                schema = _qualify_schema(name, st)
                if not self.owns(role, schema):
                    self.need(role, "OWNERSHIP", "schema", schema)
            return
        if m := re.match(r"(?i)DROP SCHEMA (?:IF EXISTS )?([\w.]+)$", sql):
            schema = _qualify_schema(m.group(1), st)
            if not self.owns(role, schema):
                self.need(role, "OWNERSHIP", "schema", schema)
            return
        if m := re.match(r"(?i)ALTER VIEW ([\w.]+) ADD ROW ACCESS POLICY ([\w.]+) ON", sql):
            policy = _qualify(m.group(2), st)
            self.use_schema(role, policy.rsplit(".", 1)[0])
            self.need(role, "APPLY", "row_access_policy", "member_access")
            return
        if m := re.match(r"(?i)PUT '?file://\S+'? @([\w.]+)", sql):
            self._stage(role, _qualify(m.group(1), st), ("READ", "WRITE"))
            return
        if m := re.match(r"(?i)COPY INTO ([\w.]+) FROM (.*)$", sql):
            self.write(role, _qualify(m.group(1), st), "INSERT")
            at = re.search(r"@([\w.]+)", m.group(2))
            assert at, sql
            self._stage(role, _qualify(at.group(1), st), ("READ",))
            return
        if m := re.match(r"(?i)(INSERT INTO|DELETE FROM|MERGE INTO) ([\w.]+)", sql):
            privilege = {"INSERT INTO": "INSERT", "DELETE FROM": "DELETE", "MERGE INTO": "INSERT"}
            target = _qualify(m.group(2), st)
            self.write(role, target, privilege[m.group(1).upper()])
            if m.group(1).upper() == "MERGE INTO":
                self.write(role, target, "UPDATE")
            self._reads(role, st, sql, exclude={target})
            return
        if re.match(r"(?i)(SELECT|WITH)\b", sql):
            self._reads(role, st, sql)
            return
        raise AssertionError(f"no privilege rule for: {sql[:120]}")

    def _stage(self, role: str, stage: str, privileges: Sequence[str]) -> None:
        self.use_schema(role, stage.rsplit(".", 1)[0])
        if self.owns(role, stage):
            return
        external = f"{self.naming.database}.{self.naming.schemas['bronze']}." + str(
            self.naming.raw["external_stage"]
        )
        if stage == external:
            self.need(role, "USAGE", "stage", "external_stage")  # external stages: USAGE only
        else:
            for privilege in privileges:
                self.need(role, privilege, "stage", stage)

    def _reads(self, role: str, st: Statement, sql: str, exclude: set[str] | None = None) -> None:
        tree = sqlglot.parse_one(sql, read="snowflake")
        ctes = {c.alias_or_name.upper() for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if not table.name or table.name.upper() in ctes or isinstance(table.this, exp.Var):
                continue
            if table.name.startswith("@") or table.name.upper() in {"VALUES"}:
                continue
            name = ".".join(p for p in (table.catalog, table.db, table.name) if p)
            obj = _qualify(name, st)
            if obj not in (exclude or set()):
                self.read(role, obj)


def required_privileges(
    naming: SnowflakeNaming, statements: Sequence[Statement]
) -> tuple[set[Privilege], dict[str, set[str]]]:
    d = Derivation(naming)
    d.learn(statements)
    for st in statements:
        d.derive(st)
        if _COMPUTE.match(st.sql):  # needs a running warehouse: the workload's own
            d.need(st.role, "USAGE", "warehouse", st.role)
    return d.required, d.role_grants


#: statements that run on a virtual warehouse (DDL, CLONE and SWAP are metadata-only)
_COMPUTE = re.compile(
    r"(?i)^(SELECT|WITH|INSERT|DELETE|MERGE|UPDATE|COPY|PUT|CREATE .*\bAS SELECT\b)"
)


def granted(grants_doc: dict[str, Any]) -> set[Privilege]:
    """grants.json → individual (role, privilege, kind, target) tuples."""
    return {
        (g["role"], p, g["on"], g["object"]) for g in grants_doc["grants"] for p in g["privileges"]
    }


def grant_problems(
    required: set[Privilege],
    required_roles: dict[str, set[str]],
    grants_doc: dict[str, Any],
) -> list[str]:
    """Differences between what the statements need and what grants.json grants."""
    own = granted(grants_doc)
    roles = {r: set(p) for r, p in grants_doc["role_grants"].items()}
    problems: list[str] = []
    if roles != required_roles:
        problems.append(f"role hierarchy {roles} != derived from USE ROLE {required_roles}")

    def closure(role: str) -> set[str]:
        out, todo = {role}, [role]
        while todo:
            for parent in roles.get(todo.pop(), ()):
                if parent not in out:
                    out.add(parent)
                    todo.append(parent)
        return out

    for extra in sorted(own - required):
        problems.append(f"granted but never needed: {extra}")
    for need in sorted(required):
        role, rest = need[0], need[1:]
        if not any((r, *rest) in own for r in closure(role)):
            problems.append(f"needed but not granted: {need}")
    return problems
