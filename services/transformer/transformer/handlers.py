"""The transformer's one handler: a debounced batch of bronze.loaded → dbt build → gold.updated."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from shared.contracts import BronzeLoaded, GoldUpdated
from shared.messaging import publish_message
from shared.ports import MessageBus, Warehouse
from shared.runtime import Delivery
from transformer.dq_failures import DataTestFailure, record_test_failures
from transformer.exceptions import DbtBuildFailed, DbtBuildFailedFinally
from transformer.gold_changes import GoldChanges, read_changes
from transformer.metrics import TransformerMetrics
from transformer.purge import purge_members
from transformer.runner import BuildOutcome, BuildRequest, DbtRunner
from transformer.selection import plan_build
from transformer.settings import TransformerSettings

log = logging.getLogger(__name__)

#: The selection of every node: the deferred tests of a whole-project (first) build.
ALL_NODES = "fqn:*"
#: Rebuilt after a failed test run so the mart shows the failure without waiting for data.
DQ_MART = "mart_data_quality"


class TransformHandler:
    """Builds silver and gold for a batch of loads and announces what changed.

    Args:
        max_delivery_count: the bus's limit; on the last allowed delivery a failed build is
            raised as terminal so the dead letter carries dbt's error.
        metrics: the service's counters (tests pass their own meter's).

    Deferred data tests (the default) run once the consumer is idle. A failed test run is
    recorded once (``silver.dq_test_failures`` → ``mart_data_quality``, a log line, the
    ``wdp.transformer.data_test_failures`` counter) and its selection waits for new data: the
    same tests on the same data would fail the same way, and re-running them would hold the
    warehouse's lock for nothing. Idle means idle: no build, no lock.
    """

    def __init__(
        self,
        runner: DbtRunner,
        warehouse: Warehouse,
        bus: MessageBus,
        settings: TransformerSettings,
        *,
        max_delivery_count: int,
        metrics: TransformerMetrics | None = None,
    ) -> None:
        self.runner = runner
        self.warehouse = warehouse
        self.bus = bus
        self.settings = settings
        self.max_delivery_count = max_delivery_count
        self.built_once = False
        self.published: list[GoldUpdated] = []
        self.metrics = metrics or TransformerMetrics()
        self.pending_tests: set[str] = set()
        #: selections whose last test run failed; tested again with the next build
        self.tests_awaiting_data: set[str] = set()
        self.last_test_failure: DbtBuildFailed | None = None
        self.recorded_failures: list[DataTestFailure] = []
        self._last_build = 0.0
        self._last_publish = time.monotonic()
        self.publications: list[dict[str, int]] = []
        self._runner_lock = asyncio.Lock()

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """Consumer batch handler: every message of the burst settles with this outcome."""
        messages = [d.payload for d in deliveries if isinstance(d.payload, BronzeLoaded)]
        purged = sorted({u for m in messages for u in m.purged_user_ids})
        if purged:
            async with self._runner_lock:
                self.published.append(await purge_members(self.warehouse, self.bus, purged))
                # deletion needs no audit: readers must stop seeing the member now
                await asyncio.to_thread(self._publish_exclusive)
            messages = [m for m in messages if m.files or m.rows_by_resource]
        if not messages:
            return
        request = plan_build(
            messages, self.settings, built_once=self.built_once, now=datetime.now(UTC)
        )
        if request is None:
            log.info("batch loaded no rows; nothing to build", extra={"messages": len(messages)})
            return
        batch_ids = sorted({m.batch_id for m in messages})
        deliveries_so_far = max(d.delivery_count for d in deliveries)
        # Data tests are ~3/4 of an incremental build's time; they run once the consumer is
        # idle, after the announcement, so a webhook reaches its prediction in seconds. The
        # first (whole-project) build defers its tests too: a failing test must not stop gold
        # (an interleaved build would skip everything downstream of it and be retried).
        deferred = self.settings.deferred_data_tests
        models = request.split()[0] if deferred else request
        async with self._runner_lock:
            before = await asyncio.to_thread(read_changes, self.warehouse, batch_ids)
            outcome = await asyncio.to_thread(self._build_exclusive, models)
            self._last_build = time.monotonic()
            self._raise_if_failed(outcome, deliveries_so_far)
            if not request.select:
                self.built_once = True
            if deferred:
                # new data: what failed before is tested again together with this build
                self.pending_tests.update(request.select or (ALL_NODES,))
                self.pending_tests.update(self.tests_awaiting_data)
                self.tests_awaiting_data.clear()
            else:  # the interleaved build passed every test: this version is audited
                await asyncio.to_thread(self._publish_exclusive)
            after = await asyncio.to_thread(read_changes, self.warehouse, batch_ids)
        await self._announce(messages, batch_ids, before.merge(after), outcome)

    async def run_deferred_tests(self, *, force: bool = False) -> BuildOutcome | None:
        """Run the data tests of everything built since the last test run, once idle.

        Periodic job of the service (and called by tests with ``force``); with nothing pending
        it returns at once, without touching the warehouse. A failure is recorded (see the
        class docstring) and kept in ``last_test_failure``; its selection is tested again only
        after the next build, i.e. when new data arrived.
        """
        now = time.monotonic()
        idle = now - self._last_build >= self.settings.tests_idle_s
        overdue = now - self._last_publish >= self.settings.publish_max_lag_s
        if not self.pending_tests or not (idle or overdue or force):
            return None
        async with self._runner_lock:
            pending = self.pending_tests
            select = (ALL_NODES,) if ALL_NODES in pending else tuple(sorted(pending))
            self.pending_tests = set()
            request = BuildRequest(
                select=select, run_unit_tests=self.settings.run_unit_tests, phase="tests"
            )
            outcome = await asyncio.to_thread(self._build_exclusive, request)
            if outcome.success:
                self.last_test_failure = None
                await asyncio.to_thread(self._publish_exclusive)
                return outcome
            self._last_publish = time.monotonic()  # a failed audit waits for new data, not lag
            self.tests_awaiting_data.update(select)
            self.last_test_failure = DbtBuildFailed(outcome.failures, outcome.error)
            records = await asyncio.to_thread(self._record_failures_exclusive, outcome)
            self._last_build = time.monotonic()
        for record in records:
            self.metrics.data_test_failed(record.test_name)
        log.error(
            "gold audit failed: dbt data tests failed; readers stay on the last published "
            "version; recorded in the data-quality mart, tested again when new data arrives",
            extra={
                "select": list(select),
                "failed_tests": [
                    {"test": r.test_name, "rows": r.failing_rows, "sample": r.sample_keys}
                    for r in records
                ],
                "error": str(self.last_test_failure),
            },
        )
        return outcome

    def _publish_exclusive(self) -> dict[str, int]:
        """Publish the audited gold (and the bronze quarantine the DQ page reads) to readers.

        Every gold base table except the scorer's ``fact_predictions`` (the scorer publishes
        that itself). Adapters without a published version (test fakes) publish nothing.
        """
        if not self.warehouse.publishes:
            return {}
        with self.warehouse.exclusive():
            tables = [
                f"{r['s']}.{r['t']}".lower()
                for r in self.warehouse.query(
                    "select table_schema as s, table_name as t from information_schema.tables "
                    "where table_type = 'BASE TABLE' and ((lower(table_schema) = 'gold' "
                    "and lower(table_name) <> 'fact_predictions') or (lower(table_schema) = "
                    "'bronze' and lower(table_name) in ('quarantine_files', "
                    "'quarantine_records')))"
                )
            ]
            rows = self.warehouse.publish(sorted(tables)) if tables else {}
        self._last_publish = time.monotonic()
        self.publications.append(rows)
        self.metrics.gold_published()
        log.info("gold published to readers", extra={"tables": len(rows)})
        return rows

    def _record_failures_exclusive(self, outcome: BuildOutcome) -> list[DataTestFailure]:
        """Write the failed tests to the DQ table and rebuild the mart, under one lock."""
        with self.warehouse.exclusive():
            records = record_test_failures(
                self.warehouse, outcome.failures, run_id=uuid.uuid4().hex, now=datetime.now(UTC)
            )
            if records:
                mart = self.runner.build(BuildRequest(select=(DQ_MART,), phase="models"))
                if not mart.success:
                    log.warning(
                        "could not rebuild the data-quality mart after a failed test run",
                        extra={"error": str(DbtBuildFailed(mart.failures, mart.error))},
                    )
        self.recorded_failures.extend(records)
        return records

    def _raise_if_failed(self, outcome: BuildOutcome, deliveries_so_far: int) -> None:
        """Failing build → transient (redelivered); on the last delivery → terminal (DLQ)."""
        if outcome.success:
            return
        error = DbtBuildFailed(outcome.failures, outcome.error)
        if deliveries_so_far >= self.max_delivery_count:
            raise DbtBuildFailedFinally(error, deliveries_so_far) from error
        raise error

    def _build_exclusive(self, request: BuildRequest) -> BuildOutcome:
        # DuckDB has one writer per file: hold the warehouse's cross-process lock for the build
        with self.warehouse.exclusive():
            return self.runner.build(request)

    async def _announce(
        self,
        messages: Sequence[BronzeLoaded],
        batch_ids: Sequence[str],
        changes: GoldChanges,
        outcome: BuildOutcome,
    ) -> None:
        user_ids = changes.user_ids | {u for m in messages for u in m.user_ids}
        event = GoldUpdated(
            run_id=uuid.uuid4().hex,
            user_ids=tuple(sorted(user_ids)),
            dates=tuple(sorted(changes.dates)),
            batch_ids=tuple(batch_ids),
            finished_at=datetime.now(UTC),
        )
        await publish_message(self.bus, event)
        self.published.append(event)
        log.info(
            "gold updated",
            extra={
                "run_id": event.run_id,
                "users": len(event.user_ids),
                "dates": len(event.dates),
                "batches": len(batch_ids),
                "dbt_elapsed_s": round(outcome.elapsed_s, 3),
            },
        )
