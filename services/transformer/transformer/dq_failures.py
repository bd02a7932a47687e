"""Recording failed dbt data tests where operators look: the data-quality mart.

A failing data test is a finding about the data, not an outage: it is written once to
``silver.dq_test_failures`` (created by the dbt project's on-run-start hook, read by
``mart_data_quality``), with the failing row count and a sample of the failing rows, instead of
being retried until it passes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.ports import Warehouse
from transformer.exceptions import NodeFailure

log = logging.getLogger(__name__)

#: Written by the transformer, created by the dbt project (macro create_dq_test_failures).
TABLE = "silver.dq_test_failures"
SAMPLE_ROWS = 5
MAX_TEXT = 2000


@dataclass(frozen=True)
class DataTestFailure:
    """One failed data test of one test run, as stored in ``silver.dq_test_failures``."""

    run_id: str
    test_id: str
    test_name: str
    status: str
    failing_rows: int | None
    sample_keys: str | None
    message: str
    failed_at: datetime


def _sample(warehouse: Warehouse, failure: NodeFailure) -> str | None:
    """Up to SAMPLE_ROWS of the test's failing rows as JSON; None when it cannot be read.

    The sample is diagnostics only: when the test's SQL cannot be re-run (an errored test,
    the warehouse gone), the failure is still recorded without it.
    """
    if not failure.compiled_sql:
        return None
    sql = f"select * from (\n{failure.compiled_sql}\n) as failing_rows limit {SAMPLE_ROWS}"
    try:
        rows = warehouse.query(sql)
    except Exception as exc:  # noqa: BLE001 - adapters raise their driver's errors; see above
        log.warning(
            "could not sample a failing data test",
            extra={"test": failure.unique_id, "error": f"{type(exc).__name__}: {exc}"},
        )
        return None
    return json.dumps(rows, default=str, sort_keys=True)[:MAX_TEXT]


def record_test_failures(
    warehouse: Warehouse, failures: Sequence[NodeFailure], *, run_id: str, now: datetime
) -> list[DataTestFailure]:
    """Write one row per failed data test of a test run; returns what was written.

    Call under ``warehouse.exclusive()`` (DuckDB: one writer per file).
    """
    records = [
        DataTestFailure(
            run_id=run_id,
            test_id=f.unique_id,
            test_name=f.test_name,
            status=f.status,
            failing_rows=f.failing_rows,
            sample_keys=_sample(warehouse, f),
            message=f.message[:MAX_TEXT],
            failed_at=now.replace(tzinfo=None),
        )
        for f in failures
        if f.is_data_test
    ]
    for r in records:
        warehouse.execute(
            f"insert into {TABLE} (run_id, test_id, test_name, status, failing_rows, "
            "sample_keys, message, failed_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                r.run_id,
                r.test_id,
                r.test_name,
                r.status,
                r.failing_rows,
                r.sample_keys,
                r.message,
                r.failed_at,
            ],
        )
    return records
