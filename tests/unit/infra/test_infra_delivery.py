"""Static checks of the delivery recipes: Dockerfiles, .dockerignore, CI workflow, pre-commit.

Docker is not available on every machine that runs the suite, so the Dockerfiles are checked as
text against the workspace they build: every COPY source exists, every workspace manifest is
copied (uv needs all of them to honour ``--frozen``), the package names are real workspace
members, the base image is pinned, and the runtime stage runs as a non-root user.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"

# service -> (workspace package, python module run by CMD)
SERVICES = {
    "receiver": ("wdp-receiver", "receiver"),
    "extractor": ("wdp-extractor", "extractor"),
    "loader": ("wdp-loader", "loader"),
    "transformer": ("wdp-transformer", "transformer"),
    "scorer": ("wdp-scorer", "scorer"),
    "whoop_simulator": ("wdp-whoop-simulator", "whoop_simulator"),
    "dashboard": ("wdp-dashboard", "dashboard"),
}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def workspace_members() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members.extend(sorted(p for p in ROOT.glob(pattern) if (p / "pyproject.toml").exists()))
    return members


def package_names() -> dict[str, Path]:
    return {
        tomllib.loads((m / "pyproject.toml").read_text())["project"]["name"]: m
        for m in workspace_members()
    }


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_infra_dockerfile_is_multistage_pinned_frozen_and_non_root(service: str) -> None:
    package, module = SERVICES[service]
    path = DEPLOY / f"Dockerfile.{service}"
    steps = instructions(path)
    kinds = [k for k, _ in steps]

    bases = [args for k, args in steps if k == "FROM"]
    assert len(bases) >= 2, "multi-stage: build stage + runtime stage"
    for base in bases:
        image = base.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), (
            image
        )

    runs = " ".join(args for k, args in steps if k == "RUN")
    assert "pip install --no-cache-dir uv==0.13.9" in runs
    syncs = [args for k, args in steps if k == "RUN" and "uv sync" in args]
    assert syncs, "uv sync missing"
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync, sync
        assert f"--package {package}" in sync, sync
    assert package in package_names(), f"{package} is not a workspace member"

    users = [args for k, args in steps if k == "USER"]
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}, "runtime must not run as root"
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k == "FROM")
    assert "HEALTHCHECK" in kinds

    cmd = [args for k, args in steps if k == "CMD"]
    assert len(cmd) == 1 and json.loads(cmd[0])[:3] == ["python", "-m", module]
    assert kinds[-1] == "CMD"
    member = package_names()[package]
    assert (member / module / "__init__.py").exists(), f"{module} is not a package of {package}"
    assert (member / module / "__main__.py").exists(), f"`python -m {module}` has no __main__"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_infra_dockerfile_copies_existing_paths_and_every_workspace_manifest(service: str) -> None:
    steps = instructions(DEPLOY / f"Dockerfile.{service}")
    copied: list[str] = []
    for kind, args in steps:
        if kind != "COPY":
            continue
        parts = [p for p in args.split() if not p.startswith("--")]
        if "--from=" in args:
            continue
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY source {source} does not exist"
            copied.append(source.rstrip("/"))
    for member in workspace_members():
        manifest = str((member / "pyproject.toml").relative_to(ROOT))
        assert manifest in copied, f"{manifest} not copied: uv sync --frozen needs every member"
    assert "uv.lock" in copied
    if service == "transformer":
        assert "dbt_project" in copied


def test_infra_dockerignore_keeps_local_state_out_of_images() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".wdp", "dbt_project/target", "tests"} <= ignored
    assert not any(entry in ignored for entry in ("shared", "services", "dbt_project", "uv.lock"))


def load_yaml(path: Path) -> dict[Any, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_infra_ci_workflow_runs_the_readme_test_command_and_static_checks() -> None:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "ci.yml")
    # PyYAML reads the bare key `on` as the boolean True.
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    jobs = workflow["jobs"]
    assert {"test", "bench", "terraform", "checkov"} <= set(jobs)

    def runs(job: str) -> str:
        return "\n".join(step.get("run", "") for step in jobs[job]["steps"])

    def uses(job: str) -> list[str]:
        return [step["uses"] for step in jobs[job]["steps"] if "uses" in step]

    assert "bash .ci/run" in runs("test")
    setup = {
        u.split("@")[0]: s.get("with", {}) for s in jobs["test"]["steps"] if (u := s.get("uses"))
    }
    assert str(setup["actions/setup-python"]["python-version"]) == "3.11"
    assert str(setup["actions/setup-node"]["node-version"]) == "20"
    assert "make bench" in runs("bench")
    assert "workflow_dispatch" in jobs["bench"]["if"]
    assert any(u.startswith("hashicorp/setup-terraform@") for u in uses("terraform"))
    assert "terraform fmt -check" in runs("terraform") and "validate" in runs("terraform")
    assert "checkov" in runs("checkov")
    assert (ROOT / "infrastructure" / "azure" / ".checkov.yaml").exists()


def test_infra_pre_commit_hooks_are_local_and_cover_every_linter() -> None:
    config = load_yaml(ROOT / ".pre-commit-config.yaml")
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    expected = {
        "ruff",
        "ruff-format",
        "mypy",
        "sqlfluff",
        "terraform_fmt",
        "hadolint",
        "trailing-whitespace",
        "end-of-file-fixer",
        "check-yaml",
    }
    assert expected <= set(hooks)
    makefile = (ROOT / "Makefile").read_text()
    lint_mypy = re.search(r"mypy (-p .+)", makefile)
    assert lint_mypy, "Makefile lint target runs mypy"
    assert " ".join(hooks["mypy"]["entry"].split()).endswith(lint_mypy.group(1).strip())
    for hook in hooks.values():
        assert hook["language"] in {"system", "python"}, hook["id"]
        if hook["language"] == "system" and hook["id"] not in {"terraform_fmt"}:
            assert hook["entry"].startswith("uv run --frozen "), hook["id"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_infra_dockerfile_env_names_are_real_settings(service: str) -> None:
    from dashboard.settings import DashboardSettings
    from extractor.settings import ExtractorSettings
    from receiver.settings import ReceiverSettings
    from scorer.settings import ScorerSettings
    from shared.settings import PlatformSettings
    from transformer.settings import TransformerSettings

    prefixes: dict[str, Any] = {
        "WDP_RECEIVER_": ReceiverSettings,
        "WDP_EXTRACTOR_": ExtractorSettings,
        "WDP_TRANSFORMER_": TransformerSettings,
        "WDP_SCORER_": ScorerSettings,
        "WDP_DASHBOARD_": DashboardSettings,
        "WDP_": PlatformSettings,
    }
    envs = " ".join(
        args for k, args in instructions(DEPLOY / f"Dockerfile.{service}") if k == "ENV"
    )
    for name in re.findall(r"\b(WDP_[A-Z0-9_]+)=", envs):
        prefix = next(p for p in prefixes if name.startswith(p))
        assert name[len(prefix) :].lower() in prefixes[prefix].model_fields, name
