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
from transformer.exceptions import DbtBuildFailed, DbtBuildFailedFinally
from transformer.gold_changes import GoldChanges, read_changes
from transformer.purge import purge_members
from transformer.runner import BuildOutcome, BuildRequest, DbtRunner
from transformer.selection import plan_build
from transformer.settings import TransformerSettings

log = logging.getLogger(__name__)


class TransformHandler:
    """Builds silver and gold for a batch of loads and announces what changed.

    Args:
        max_delivery_count: the bus's limit; on the last allowed delivery a failed build is
            raised as terminal so the dead letter carries dbt's error.
    """

    def __init__(
        self,
        runner: DbtRunner,
        warehouse: Warehouse,
        bus: MessageBus,
        settings: TransformerSettings,
        *,
        max_delivery_count: int,
    ) -> None:
        self.runner = runner
        self.warehouse = warehouse
        self.bus = bus
        self.settings = settings
        self.max_delivery_count = max_delivery_count
        self.built_once = False
        self.published: list[GoldUpdated] = []
        self.pending_tests: set[str] = set()
        self.last_test_failure: DbtBuildFailed | None = None
        self._last_build = 0.0
        self._runner_lock = asyncio.Lock()

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """Consumer batch handler: every message of the burst settles with this outcome."""
        messages = [d.payload for d in deliveries if isinstance(d.payload, BronzeLoaded)]
        purged = sorted({u for m in messages for u in m.purged_user_ids})
        if purged:
            async with self._runner_lock:
                self.published.append(await purge_members(self.warehouse, self.bus, purged))
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
        # Data tests are ~3/4 of an incremental build's time; on the hot path they run right
        # after the announcement so a webhook reaches its prediction in seconds. The first
        # (full) build of a process keeps dbt's interleaved build as a start-up gate.
        deferred = self.settings.deferred_data_tests and bool(request.select)
        models = request.split()[0] if deferred else request
        async with self._runner_lock:
            before = await asyncio.to_thread(read_changes, self.warehouse, batch_ids)
            outcome = await asyncio.to_thread(self._build_exclusive, models)
            self._last_build = time.monotonic()
            self._raise_if_failed(outcome, deliveries_so_far)
            if not request.select:
                self.built_once = True
            if deferred:
                self.pending_tests.update(request.select)
            after = await asyncio.to_thread(read_changes, self.warehouse, batch_ids)
        await self._announce(messages, batch_ids, before.merge(after), outcome)

    async def run_deferred_tests(self, *, force: bool = False) -> BuildOutcome | None:
        """Run the data tests of everything built since the last test run, once idle.

        Periodic job of the service (and called by tests with ``force``). A failure is logged
        with dbt's node errors and kept in ``last_test_failure``; the selection stays pending
        so the next quiet period tests it again.
        """
        idle = time.monotonic() - self._last_build >= self.settings.tests_idle_s
        if not self.pending_tests or not (idle or force):
            return None
        async with self._runner_lock:
            select = tuple(sorted(self.pending_tests))
            self.pending_tests.clear()
            request = BuildRequest(
                select=select, run_unit_tests=self.settings.run_unit_tests, phase="tests"
            )
            outcome = await asyncio.to_thread(self._build_exclusive, request)
        if outcome.success:
            self.last_test_failure = None
            return outcome
        self.pending_tests.update(select)
        self.last_test_failure = DbtBuildFailed(outcome.failures, outcome.error)
        log.error(
            "deferred dbt data tests failed",
            extra={"select": list(select), "error": str(self.last_test_failure)},
        )
        return outcome

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
