"""The dbt models are sqlfluff-clean (dialect snowflake, dbt templater on the DuckDB target).

Runs in a subprocess: the dbt templater compiles the project with its own global dbt state,
which must not mix with the in-process dbt runs of the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dbt_test_support import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow


def test_models_are_sqlfluff_clean(tmp_path: Path) -> None:
    env = {**os.environ, "WDP_DUCKDB_FILE": str(tmp_path / "lint.duckdb")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlfluff",
            "lint",
            "models",
            "--format",
            "json",
            "--processes",
            "1",
            "--nofail",
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    linted = [f for f in report if f["filepath"].endswith(".sql")]
    assert len(linted) >= 20, "every model must be linted, not skipped"
    problems = [
        f"{f['filepath']}:{v['start_line_no']} {v['code']} {v['description']}"
        for f in linted
        for v in f["violations"]
    ]
    assert problems == []
