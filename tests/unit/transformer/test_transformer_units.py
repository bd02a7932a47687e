"""Transformer unit tests: build planning, debounce, error mapping (fake runner, no dbt)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from shared.contracts import BronzeLoaded, GoldUpdated, Topic
from shared.ports import BronzeFile, LoadResult, Warehouse
from shared.ports.bus import ReceivedMessage
from shared.runtime import Delivery
from transformer.debounce import DebouncingConsumer
from transformer.exceptions import DbtBuildFailed, DbtBuildFailedFinally, NodeFailure
from transformer.gold_changes import changed_rows_sql
from transformer.handlers import ALL_NODES, TransformHandler
from transformer.metrics import DATA_TEST_FAILURES, TransformerMetrics
from transformer.runner import BuildOutcome, BuildRequest, DbtRunner
from transformer.selection import loaded_resources, plan_build
from transformer.settings import TransformerSettings

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def loaded(batch: str, rows: Mapping[str, int], *, age: timedelta = timedelta(0)) -> BronzeLoaded:
    return BronzeLoaded(
        batch_id=batch,
        files=(f"bronze/whoop/x/{batch}.ndjson.gz",),
        rows_by_resource=dict(rows),
        user_ids=(10100,),
        loaded_at=NOW - age,
    )


class FakeRunner(DbtRunner):
    """Subclasses the runner port; answers with scripted outcomes."""

    def __init__(self, outcomes: Sequence[BuildOutcome]) -> None:
        super().__init__()
        self.outcomes = list(outcomes)

    def _build(self, request: BuildRequest) -> BuildOutcome:
        return self.outcomes.pop(0)


class FakeWarehouse(Warehouse):
    """No gold yet (information_schema says 0 tables); records exclusive() use."""

    def __init__(self) -> None:
        self.exclusive_depth = 0
        self.builds_under_lock = 0
        self.exclusive_entries = 0
        self.executed: list[tuple[str, Any]] = []

    def ensure_schema(self) -> None:
        return None

    def load_bronze(self, batch_id: str, files: Sequence[BronzeFile]) -> LoadResult:
        raise NotImplementedError("the transformer never loads")

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return [{"n": 0}]

    def execute(self, sql: str, params: Any = None) -> None:
        self.executed.append((sql, params))

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        self.exclusive_entries += 1
        self.exclusive_depth += 1
        try:
            yield
        finally:
            self.exclusive_depth -= 1


class LockCheckingRunner(FakeRunner):
    def __init__(self, warehouse: FakeWarehouse, outcomes: Sequence[BuildOutcome]) -> None:
        super().__init__(outcomes)
        self.warehouse = warehouse

    def _build(self, request: BuildRequest) -> BuildOutcome:
        assert self.warehouse.exclusive_depth == 1, "dbt must run under the warehouse lock"
        return super()._build(request)


OK = BuildOutcome(success=True, elapsed_s=0.5, nodes_run=10)
FAILED = BuildOutcome(
    success=False,
    elapsed_s=0.5,
    nodes_run=10,
    failures=(NodeFailure("model.whoop_platform.fact_sleep", "error", "boom"),),
)


def delivery(payload: BronzeLoaded, count: int = 1) -> Delivery:
    msg = ReceivedMessage(
        topic=Topic.BRONZE_LOADED.value,
        subscription="transformer",
        message_id=payload.batch_id,
        body=b"",
        application_properties={},
        delivery_count=count,
        enqueued_time=NOW,
        locked_until=None,
    )
    return Delivery(payload, msg)


# ---------------------------------------------------------------- selection


def test_first_build_of_a_process_is_the_whole_project() -> None:
    request = plan_build(
        [loaded("b1", {"sleep": 3})], TransformerSettings(), built_once=False, now=NOW
    )
    assert request == BuildRequest()


def test_later_builds_select_descendants_of_loaded_raw_tables() -> None:
    request = plan_build(
        [loaded("b1", {"sleep": 3, "cycle": 0}), loaded("b2", {"recovery": 1, "bogus": 5})],
        TransformerSettings(),
        built_once=True,
        now=NOW,
    )
    assert request is not None
    assert request.select == ("source:whoop.raw_recovery+", "source:whoop.raw_sleep+")
    assert "--exclude-resource-type" in request.cli_args()


def test_selection_all_builds_everything() -> None:
    request = plan_build(
        [loaded("b1", {"sleep": 3})], TransformerSettings(selection="all"), built_once=True, now=NOW
    )
    assert request == BuildRequest()


def test_batch_without_rows_needs_no_build() -> None:
    assert (
        plan_build([loaded("b1", {"sleep": 0})], TransformerSettings(), built_once=True, now=NOW)
        is None
    )
    assert loaded_resources([loaded("b1", {})]) == []


def test_batch_older_than_lookback_gets_full_refresh() -> None:
    old = loaded("b1", {"sleep": 1}, age=timedelta(hours=80))
    request = plan_build([old], TransformerSettings(lookback_hours=72), built_once=True, now=NOW)
    assert request is not None and request.full_refresh
    assert "--full-refresh" in request.cli_args()


def test_changed_rows_sql_refuses_unsafe_batch_ids() -> None:
    assert "'abc123'" in changed_rows_sql(["abc123"])
    with pytest.raises(ValueError):
        changed_rows_sql(["x' or 1=1 --"])


# ---------------------------------------------------------------- handler and error mapping


class RecordingBus:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, dict[str, Any]]] = []

    async def publish(self, topic: str, messages: Sequence[Any]) -> None:
        for m in messages:
            self.published.append((topic, m.body, dict(m.application_properties)))


def make_handler(
    outcomes: Sequence[BuildOutcome],
    max_deliveries: int = 3,
    metrics: TransformerMetrics | None = None,
) -> tuple[TransformHandler, FakeWarehouse, RecordingBus]:
    warehouse = FakeWarehouse()
    bus = RecordingBus()
    handler = TransformHandler(
        LockCheckingRunner(warehouse, outcomes),
        warehouse,
        bus,  # type: ignore[arg-type]
        TransformerSettings(),
        max_delivery_count=max_deliveries,
        metrics=metrics,
    )
    return handler, warehouse, bus


async def test_successful_build_publishes_gold_updated_with_users() -> None:
    handler, _, bus = make_handler([OK])
    await handler.handle_batch([delivery(loaded("b1", {"sleep": 2}))])
    assert handler.built_once
    assert len(bus.published) == 1
    topic, body, _ = bus.published[0]
    assert topic == Topic.GOLD_UPDATED.value
    event = GoldUpdated.model_validate_json(body)
    assert event.user_ids == (10100,) and event.batch_ids == ("b1",)


async def test_failed_build_is_transient_with_node_names() -> None:
    handler, _, bus = make_handler([FAILED])
    with pytest.raises(DbtBuildFailed) as info:
        await handler.handle_batch([delivery(loaded("b1", {"sleep": 2}), count=1)])
    assert "model.whoop_platform.fact_sleep" in str(info.value)
    assert info.value.failures[0].message == "boom"
    assert bus.published == [] and not handler.built_once


async def test_failed_build_on_last_delivery_dead_letters_with_dbt_error() -> None:
    handler, _, _ = make_handler([FAILED], max_deliveries=3)
    with pytest.raises(DbtBuildFailedFinally) as info:
        await handler.handle_batch([delivery(loaded("b1", {"sleep": 2}), count=3)])
    assert "boom" in str(info.value) and "delivery 3" in str(info.value)


def test_split_build_runs_models_then_only_tests() -> None:
    request = BuildRequest(select=("source:whoop.raw_sleep+",), full_refresh=True)
    models, tests = request.split()
    assert models.cli_args() == [
        "build", "--select", "source:whoop.raw_sleep+",
        "--exclude-resource-type", "unit_test", "test", "--full-refresh",
    ]  # fmt: skip
    assert tests.cli_args() == [
        "build", "--select", "source:whoop.raw_sleep+", "--resource-type", "test",
    ]  # fmt: skip


def recent(batch: str, rows: Mapping[str, int]) -> BronzeLoaded:
    """A batch loaded just now (inside the incremental lookback of the handler's clock)."""
    return loaded(batch, rows).model_copy(update={"loaded_at": datetime.now(UTC)})


async def test_incremental_build_announces_gold_and_defers_data_tests() -> None:
    handler, warehouse, bus = make_handler([OK, OK])
    await handler.handle_batch([delivery(recent("b1", {"sleep": 2}))])  # full start-up build
    await handler.handle_batch([delivery(recent("b2", {"sleep": 1}))])
    assert len(bus.published) == 2
    # the first (whole-project) build defers its tests too: a failing test must not stop gold
    assert [r.phase for r, _ in handler.runner.history] == ["models", "models"]
    assert handler.pending_tests == {ALL_NODES, "source:whoop.raw_sleep+"}
    handler.runner = LockCheckingRunner(warehouse, [OK])
    assert await handler.run_deferred_tests() is None  # not idle yet: a build just finished
    outcome = await handler.run_deferred_tests(force=True)
    assert outcome is OK and handler.pending_tests == set()
    ((request, _),) = handler.runner.history
    assert request.phase == "tests" and request.select == (ALL_NODES,)


TEST_FAILED = BuildOutcome(
    success=False,
    elapsed_s=0.5,
    nodes_run=40,
    failures=(
        NodeFailure(
            "test.whoop_platform.assert_recovery_on_its_sleep_wake_day",
            "fail",
            "Got 2 results, configured to fail if != 0",
            failing_rows=2,
            compiled_sql="select 1 as cycle_id",
        ),
    ),
)


async def test_failing_data_tests_are_recorded_once_and_wait_for_new_data() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    handler, warehouse, _ = make_handler([OK, OK], metrics=TransformerMetrics(meter))
    await handler.handle_batch([delivery(recent("b1", {"sleep": 2}))])
    await handler.handle_batch([delivery(recent("b2", {"recovery": 1}))])
    handler.runner = LockCheckingRunner(warehouse, [TEST_FAILED, OK])  # tests, then DQ mart
    await handler.run_deferred_tests(force=True)

    assert handler.last_test_failure is not None
    assert "assert_recovery_on_its_sleep_wake_day" in str(handler.last_test_failure)
    ((sql, params),) = warehouse.executed
    assert "silver.dq_test_failures" in sql
    assert params[2] == "assert_recovery_on_its_sleep_wake_day" and params[4] == 2
    assert params[5] == '[{"n": 0}]'  # the sample: the test's SQL re-run with a limit
    assert [r.select for r, _ in handler.runner.history] == [(ALL_NODES,), ("mart_data_quality",)]
    data = reader.get_metrics_data()
    assert data is not None
    (point,) = [
        p
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == DATA_TEST_FAILURES
        for p in m.data.data_points
    ]
    assert point.value == 1  # type: ignore[union-attr]
    assert point.attributes == {"test": "assert_recovery_on_its_sleep_wake_day"}

    # idle: nothing pending, so no build and no lock, however often the periodic job runs
    entries = warehouse.exclusive_entries
    for _ in range(5):
        assert await handler.run_deferred_tests(force=True) is None
    assert warehouse.exclusive_entries == entries and len(handler.runner.history) == 2
    assert handler.pending_tests == set()

    # new data: the failed selection is tested again together with the new build's
    handler.runner = LockCheckingRunner(warehouse, [OK])
    await handler.handle_batch([delivery(recent("b3", {"workout": 1}))])
    assert handler.pending_tests == {ALL_NODES, "source:whoop.raw_workout+"}


def test_interleaved_build_when_deferral_is_off() -> None:
    request = plan_build(
        [loaded("b1", {"sleep": 3})],
        TransformerSettings(deferred_data_tests=False),
        built_once=True,
        now=NOW,
    )
    assert request is not None and request.phase == "all"


# ---------------------------------------------------------------- debounce


class ScriptedBus:
    """receive() hands out scripted message lists, waiting like a real bus when empty."""

    def __init__(self, script: list[tuple[float, list[str]]]) -> None:
        self.script = script  # (delay before available, message ids)
        self.calls: list[float] = []

    async def receive(
        self, topic: str, subscription: str, *, max_messages: int = 1, max_wait_s: float = 5.0
    ) -> list[ReceivedMessage]:
        self.calls.append(max_wait_s)
        if not self.script:
            await asyncio.sleep(max_wait_s)
            return []
        delay, ids = self.script[0]
        if delay > max_wait_s:
            await asyncio.sleep(max_wait_s)
            self.script[0] = (delay - max_wait_s, ids)
            return []
        await asyncio.sleep(delay)
        self.script.pop(0)
        return [
            ReceivedMessage(Topic.BRONZE_LOADED.value, "transformer", i, b"", {}, 1, NOW, None)
            for i in ids[:max_messages]
        ]


async def _noop(deliveries: Sequence[Delivery]) -> None:
    return None


async def test_debounce_merges_a_burst_within_the_window() -> None:
    bus = ScriptedBus([(0.0, ["a"]), (0.05, ["b", "c"]), (0.05, ["d"]), (0.5, ["late"])])
    consumer = DebouncingConsumer(
        bus,
        Topic.BRONZE_LOADED,
        "transformer",
        batch_handler=_noop,  # type: ignore[arg-type]
        max_messages=10,
        max_wait_s=0.2,
        debounce_s=0.2,
    )
    first = await consumer._receive(10, 0.2)
    burst = await consumer.gather_burst(first)
    assert [m.message_id for m in burst] == ["a", "b", "c", "d"]


async def test_debounce_stops_when_batch_is_full() -> None:
    bus = ScriptedBus([(0.0, ["a", "b"]), (0.01, ["c", "d", "e"])])
    consumer = DebouncingConsumer(
        bus,
        Topic.BRONZE_LOADED,
        "transformer",
        batch_handler=_noop,  # type: ignore[arg-type]
        max_messages=3,
        max_wait_s=0.2,
        debounce_s=5.0,
    )
    started = asyncio.get_running_loop().time()
    burst = await consumer.gather_burst(await consumer._receive(3, 0.2))
    assert [m.message_id for m in burst] == ["a", "b", "c"]
    assert asyncio.get_running_loop().time() - started < 1.0
