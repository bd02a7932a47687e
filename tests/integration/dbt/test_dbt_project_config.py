"""Project-level guarantees: deprecations fail the run (a misspelt or outdated YAML key is
otherwise a test that silently never runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

from dbt_test_support import DBT_PROJECT_DIR

from transformer.runner import InProcessDbtRunner

GOOD = """          - accepted_values:
              arguments:
                values: [sleep, cycle, workout, strain_user]"""
DEPRECATED = """          - accepted_values:
              values: [sleep, cycle, workout, strain_user]"""


def _parse(project: Path, tmp: Path) -> bool:
    runner = InProcessDbtRunner(project, project, "duckdb", tmp / "state", env={})
    return bool(runner.invoke(["parse", "--no-partial-parse"]).success)


def test_deprecated_yaml_fails_the_parse(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    models = project / "models" / "intermediate" / "whoop" / "_int_whoop__models.yml"
    text = models.read_text()
    assert GOOD in text
    assert _parse(project, tmp_path / "good")
    models.write_text(text.replace(GOOD, DEPRECATED))
    assert not _parse(project, tmp_path / "bad")
