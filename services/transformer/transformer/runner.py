"""The dbt runner port and its in-process adapter.

dbt's start-up (imports, project parse) costs seconds; a bus-driven service that paid it per
message could never be quick. ``InProcessDbtRunner`` imports dbt once and keeps a single
``dbtRunner`` for the life of the process, and dbt's partial parsing (``partial_parse.msgpack``
in the target path) keeps later invocations at about a second of overhead.
"""

from __future__ import annotations

import abc
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from transformer.exceptions import NodeFailure

log = logging.getLogger(__name__)

_FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class BuildRequest:
    """One ``dbt build``: what to select, and whether to rebuild incremental models.

    ``phase`` splits a build so data tests can run after gold is announced: ``models`` builds
    seeds and models without tests, ``tests`` runs only the tests of the same selection, and
    ``all`` is dbt's usual interleaved build.
    """

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    full_refresh: bool = False
    run_unit_tests: bool = False
    phase: Literal["all", "models", "tests"] = "all"

    def cli_args(self) -> list[str]:
        """The dbt CLI arguments for this request (project/profile flags are the runner's)."""
        args = ["build"]
        if self.select:
            args += ["--select", *self.select]
        if self.exclude:
            args += ["--exclude", *self.exclude]
        if self.phase == "tests":
            args += ["--resource-type", "test"]
            if self.run_unit_tests:
                args.append("unit_test")
        else:
            skipped = [] if self.run_unit_tests else ["unit_test"]
            if self.phase == "models":
                skipped.append("test")
            if skipped:
                args += ["--exclude-resource-type", *skipped]
        if self.full_refresh and self.phase != "tests":
            args.append("--full-refresh")
        return args

    def split(self) -> tuple[BuildRequest, BuildRequest]:
        """The ``models`` and ``tests`` halves of this request."""
        return replace(self, phase="models"), replace(self, phase="tests", full_refresh=False)


@dataclass(frozen=True)
class BuildOutcome:
    """What a build did: success, time, how many nodes ran, and every failing node."""

    success: bool
    elapsed_s: float
    nodes_run: int
    failures: tuple[NodeFailure, ...] = ()
    error: str | None = None
    node_ids: tuple[str, ...] = ()


class DbtRunner(abc.ABC):
    """Runs dbt builds; keeps a history so tests and metrics see what was built."""

    def __init__(self) -> None:
        self.history: list[tuple[BuildRequest, BuildOutcome]] = []

    def build(self, request: BuildRequest) -> BuildOutcome:
        """Run one build and record it. Never raises for a failing build: see ``success``."""
        outcome = self._build(request)
        self.history.append((request, outcome))
        log.info(
            "dbt build finished",
            extra={
                "dbt_args": " ".join(request.cli_args()),
                "success": outcome.success,
                "elapsed_s": round(outcome.elapsed_s, 3),
                "nodes_run": outcome.nodes_run,
                "failures": [str(f) for f in outcome.failures][:20],
            },
        )
        return outcome

    def warm(self) -> float:  # noqa: B027 - optional hook
        """Pay start-up costs now rather than on the first message; returns seconds spent."""
        return 0.0

    @abc.abstractmethod
    def _build(self, request: BuildRequest) -> BuildOutcome:
        """Run the build."""


def release_embedded_database() -> None:
    """Close the DuckDB file dbt-duckdb keeps open after an in-process invocation.

    dbt-duckdb caches its database instance in a class attribute for the life of the process,
    which would hold DuckDB's single-writer file lock between builds and lock the loader and
    the scorer out. Closing it costs a few milliseconds on the next build (measured: none
    visible). A no-op when dbt-duckdb was never used in this process (Snowflake target).
    """
    module = sys.modules.get("dbt.adapters.duckdb.connections")
    if module is None:
        return
    manager = module.DuckDBConnectionManager
    with manager._LOCK:
        env = manager._ENV
        if env is not None:
            env.close()
            manager._ENV = None


def _int_or_none(value: object) -> int | None:
    """dbt's ``failures`` count of a test result (absent for models)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class InProcessDbtRunner(DbtRunner):
    """dbt-core's programmatic ``dbtRunner``, created once and reused for every build.

    Args:
        project_dir: the dbt project (``dbt_project.yml``).
        profiles_dir: where ``profiles.yml`` lives.
        target: profile target (``duckdb``, ``fakesnow``, ``snowflake``).
        state_dir: writable directory for dbt's target/ and logs/ (the project dir may be
            read-only in a container, and tests must not share it).
        env: environment variables the profile reads (``WDP_DUCKDB_FILE``...); set for the
            process before each invocation, because dbt resolves ``env_var()`` from os.environ.
    """

    def __init__(
        self,
        project_dir: Path,
        profiles_dir: Path,
        target: str,
        state_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.project_dir = project_dir
        self.profiles_dir = profiles_dir
        self.target = target
        self.state_dir = state_dir
        self.env = dict(env or {})
        self._runner: Any = None
        # dbt is not re-entrant: the background warm-up and a build never overlap.
        self._invoke_lock = threading.RLock()

    def _common_args(self) -> list[str]:
        return [
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.profiles_dir),
            "--target",
            self.target,
            "--target-path",
            str(self.state_dir / "target"),
            "--log-path",
            str(self.state_dir / "logs"),
            "--quiet",
        ]

    def _ensure_runner(self) -> Any:
        if self._runner is None:
            from dbt.cli.main import dbtRunner  # imported once per process: ~5 s

            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._runner = dbtRunner()
        return self._runner

    def warm(self) -> float:
        """Import dbt and parse the project once (writes the partial-parse cache)."""
        started = time.perf_counter()
        with self._invoke_lock:
            runner = self._ensure_runner()
            os.environ.update(self.env)
            try:
                result = runner.invoke(["parse", *self._common_args()])
            finally:
                release_embedded_database()
        if not result.success:
            log.warning("dbt parse failed while warming", extra={"error": str(result.exception)})
        return time.perf_counter() - started

    def invoke(self, args: Sequence[str]) -> Any:
        """Run any dbt command with this runner's project/profile flags (used by tests/CLI)."""
        with self._invoke_lock:
            runner = self._ensure_runner()
            os.environ.update(self.env)
            try:
                return runner.invoke([*args, *self._common_args()])
            finally:
                release_embedded_database()

    def _build(self, request: BuildRequest) -> BuildOutcome:
        started = time.perf_counter()
        result = self.invoke(request.cli_args())
        elapsed = time.perf_counter() - started
        results = list(getattr(result.result, "results", None) or [])
        failures = tuple(
            NodeFailure(
                unique_id=str(getattr(res.node, "unique_id", "?")),
                status=str(res.status),
                message=str(res.message or ""),
                failing_rows=_int_or_none(getattr(res, "failures", None)),
                compiled_sql=getattr(res.node, "compiled_code", None),
            )
            for res in results
            if str(res.status) in _FAILED_STATUSES
        )
        error = (
            None
            if result.exception is None
            else f"{type(result.exception).__name__}: " + (str(result.exception))
        )
        return BuildOutcome(
            success=bool(result.success),
            elapsed_s=elapsed,
            nodes_run=len(results),
            failures=failures,
            error=error,
            node_ids=tuple(str(getattr(res.node, "unique_id", "?")) for res in results),
        )
