"""Faults in real data must never stop the pipeline: the transformer end to end (LocalBus,
DuckDBWarehouse, the loader's load, the real dbt project through the warm runner, the real
consumer loop).

* A bronze line whose fields have the wrong type or format is quarantined with the field and
  value named; no build fails, and another user's change still reaches gold.
* Recoveries that belong to a nap (WHOOP does this) pass the gold tests.
* A failing data test is recorded once in the data-quality mart, logged and counted; with no
  new data the transformer takes no further build and no warehouse lock.

Each scenario runs the pipeline once (module fixture; dbt costs seconds per build) and the
parametrized tests read its results.
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from shared.adapters.bus.local import LocalBus
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.contracts import BronzeLoaded, GoldUpdated, Topic, decode
from shared.messaging import publish_message
from shared.ports import BronzeFile
from shared.settings import PlatformSettings
from transformer.bootstrap import TransformerService, bootstrap
from transformer.metrics import DATA_TEST_FAILURES, TransformerMetrics
from transformer.settings import TransformerSettings
from whoop_simulator.generator import generate_user
from whoop_simulator.timeutil import iso_ms, parse_iso

pytestmark = pytest.mark.slow
DAYS = 8
GOOD_SEED, BAD_SEED = 11, 12

#: (resource, JSON path, wrong value): one record per field with a wrong type or format.
BAD_FIELDS: list[tuple[str, str, Any]] = [
    ("cycle", "id", "abc"),
    ("cycle", "start", "yesterday"),
    ("cycle", "end", "tomorrow"),
    ("cycle", "created_at", "2025-13-45T99:00:00.000Z"),
    ("cycle", "timezone_offset", "PST"),
    ("cycle", "score.strain", "high"),
    ("cycle", "score.kilojoule", "lots"),
    ("cycle", "score.average_heart_rate", {"bpm": 60}),
    ("cycle", "score.max_heart_rate", "fast"),
    ("sleep", "id", 12345),
    ("sleep", "cycle_id", "not-a-cycle"),
    ("sleep", "nap", "sometimes"),
    ("sleep", "start", "last night"),
    ("sleep", "end", "this morning"),
    ("sleep", "created_at", "soon"),
    ("sleep", "timezone_offset", "+5"),
    ("sleep", "score.stage_summary.total_in_bed_time_milli", "8h"),
    ("sleep", "score.stage_summary.total_awake_time_milli", "a while"),
    ("sleep", "score.stage_summary.total_no_data_time_milli", [1, 2]),
    ("sleep", "score.stage_summary.total_light_sleep_time_milli", "some"),
    ("sleep", "score.stage_summary.total_slow_wave_sleep_time_milli", "deep"),
    ("sleep", "score.stage_summary.total_rem_sleep_time_milli", "dreamy"),
    ("sleep", "score.stage_summary.sleep_cycle_count", "four"),
    ("sleep", "score.stage_summary.disturbance_count", "few"),
    ("sleep", "score.sleep_needed.baseline_milli", "8 hours"),
    ("sleep", "score.sleep_needed.need_from_sleep_debt_milli", "none"),
    ("sleep", "score.sleep_needed.need_from_recent_strain_milli", "x"),
    ("sleep", "score.sleep_needed.need_from_recent_nap_milli", "y"),
    ("sleep", "score.respiratory_rate", "normal"),
    ("sleep", "score.sleep_performance_percentage", "good"),
    ("sleep", "score.sleep_consistency_percentage", "steady"),
    ("sleep", "score.sleep_efficiency_percentage", "great"),
    ("recovery", "cycle_id", "cycle-7"),
    ("recovery", "sleep_id", 987654321),
    ("recovery", "created_at", "today"),
    ("recovery", "score.user_calibrating", "maybe"),
    ("recovery", "score.recovery_score", "high"),
    ("recovery", "score.resting_heart_rate", "low"),
    ("recovery", "score.hrv_rmssd_milli", "ok"),
    ("recovery", "score.spo2_percentage", "97%"),
    ("recovery", "score.skin_temp_celsius", "warm"),
    ("workout", "id", 424242),
    ("workout", "sport_id", "running"),
    ("workout", "start", "noon"),
    ("workout", "end", "later"),
    ("workout", "created_at", "then"),
    ("workout", "timezone_offset", "+25:99"),
    ("workout", "score.strain", "hard"),
    ("workout", "score.average_heart_rate", "fast"),
    ("workout", "score.max_heart_rate", "faster"),
    ("workout", "score.kilojoule", "many"),
    ("workout", "score.percent_recorded", "most"),
    ("workout", "score.distance_meter", "far"),
    ("workout", "score.altitude_gain_meter", "up"),
    ("workout", "score.altitude_change_meter", "down"),
    ("workout", "score.zone_durations.zone_zero_milli", "z0"),
    ("workout", "score.zone_durations.zone_one_milli", "z1"),
    ("workout", "score.zone_durations.zone_two_milli", "z2"),
    ("workout", "score.zone_durations.zone_three_milli", "z3"),
    ("workout", "score.zone_durations.zone_four_milli", "z4"),
    ("workout", "score.zone_durations.zone_five_milli", "z5"),
    ("body_measurement", "height_meter", "tall"),
    ("body_measurement", "weight_kilogram", "heavy"),
    ("body_measurement", "max_heart_rate", "max"),
]
#: resource -> (gold fact, its key column) for the "never reaches gold" check
FACTS = {
    "cycle": ("fact_strain", "cycle_id"),
    "sleep": ("fact_sleep", "sleep_id"),
    "recovery": ("fact_daily_recovery", "cycle_id"),
    "workout": ("fact_workouts", "workout_id"),
}


class CountingWarehouse(DuckDBWarehouse):
    """The real DuckDB warehouse, counting how often the cross-process lock is taken."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.exclusive_entries = 0

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        self.exclusive_entries += 1
        with super().exclusive():
            yield


@dataclass
class Pipeline:
    """A running transformer on a LocalBus and a DuckDB file, plus a lake directory."""

    bus: LocalBus
    warehouse: CountingWarehouse
    service: TransformerService
    lake: Path
    reader: InMemoryMetricReader
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def write(self, resource: str, user_id: int, lines: list[dict[str, Any]]) -> BronzeFile:
        blob = (
            f"bronze/whoop/{resource}/user_id={user_id}/dt=2025-02-01/{uuid.uuid4().hex}.ndjson.gz"
        )
        path = self.lake / blob
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt") as fh:
            fh.writelines(json.dumps(line) + "\n" for line in lines)
        return BronzeFile(
            blob_path=blob,
            local_path=path,
            resource=resource,
            etag=uuid.uuid4().hex,
            fetched_at=datetime(2025, 2, 1, tzinfo=UTC),
        )

    async def load_and_wait(self, files: list[BronzeFile]) -> GoldUpdated:
        """Load files like the loader, publish bronze.loaded, wait for that batch's gold."""
        batch_id = uuid.uuid4().hex
        result = await asyncio.to_thread(self.warehouse.load_bronze, batch_id, files)
        await publish_message(
            self.bus,
            BronzeLoaded(
                batch_id=batch_id,
                files=tuple(result.loaded_files),
                rows_by_resource=result.rows_by_resource,
                user_ids=tuple(sorted(result.user_ids)),
                loaded_at=datetime.now(UTC),
            ),
        )
        for _ in range(180):  # receive polls of up to 1 s: a bound, not a timing assertion
            msgs = await self.bus.receive(
                Topic.GOLD_UPDATED.value, "scorer", max_messages=1, max_wait_s=1
            )
            for msg in msgs:
                await self.bus.complete(msg)
                event = decode(Topic.GOLD_UPDATED, msg.body, msg.application_properties)
                assert isinstance(event, GoldUpdated)
                if batch_id in event.batch_ids:
                    return event
        raise AssertionError(f"batch {batch_id} never reached gold")

    def query(self, sql: str) -> list[dict[str, Any]]:
        return self.warehouse.query(sql)


@contextmanager
def running_pipeline(tmp: Path) -> Iterator[tuple[Pipeline, asyncio.AbstractEventLoop]]:
    """Start the transformer's consumer loop on its own event loop; stop and close after."""
    loop = asyncio.new_event_loop()
    settings = PlatformSettings(data_dir=tmp, duckdb_path=tmp / "warehouse.duckdb")
    bus = LocalBus.from_settings(settings)
    loop.run_until_complete(bus.ensure_topology())
    warehouse = CountingWarehouse(settings.duckdb_file)
    warehouse.ensure_schema()
    reader = InMemoryMetricReader()
    service = bootstrap(
        settings,
        transformer_settings=TransformerSettings(debounce_s=0.5, receive_wait_s=0.2),
        bus=bus,
        warehouse=warehouse,
        metrics=TransformerMetrics(MeterProvider(metric_readers=[reader]).get_meter("test")),
    )
    pipeline = Pipeline(bus, warehouse, service, tmp / "lake", reader)
    task = loop.create_task(service.consumer.run(pipeline.stop))
    try:
        yield pipeline, loop
    finally:
        pipeline.stop.set()
        loop.run_until_complete(asyncio.wait_for(task, timeout=120))
        loop.run_until_complete(service.close())
        loop.close()


def _set(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = record
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _body(user_id: int) -> dict[str, Any]:
    """A WHOOP body measurement line (the extractor adds ``user_id``)."""
    return {"user_id": user_id, "height_meter": 1.8, "weight_kilogram": 75.5, "max_heart_rate": 190}


def _case_id(case: tuple[str, str, Any]) -> str:
    return f"{case[0]}-{case[1]}"


# ------------------------------------------------------------------ 1. unparsable fields


@dataclass
class BadValueRun:
    """What the pipeline did with one batch of bad records and a later good change."""

    keys: dict[tuple[str, str], str]
    quarantine: list[dict[str, Any]]
    gold_keys: dict[str, set[str]]
    rescored_sleep_id: str
    rescored_rate: float | None
    good_user_announced: bool
    failed_builds: int
    tests_passed: bool
    failed_tests: list[str]


def _bad_records(bad_user: Any) -> tuple[dict[str, list[dict[str, Any]]], dict[Any, str]]:
    """One record per (resource, field), each under its own key so each is quarantined alone."""
    scored = {
        r: next(x for x in bad_user.records(r) if x.get("score_state", "SCORED") == "SCORED")
        for r in ("cycle", "sleep", "recovery", "workout")
    }
    scored["body_measurement"] = _body(bad_user.user_id)
    by_resource: dict[str, list[dict[str, Any]]] = {}
    keys: dict[Any, str] = {}
    for n, (resource, path, value) in enumerate(BAD_FIELDS):
        record = copy.deepcopy(scored[resource])
        if resource == "cycle":
            record["id"] = 880_000_000 + n
        elif resource == "recovery":
            record["cycle_id"] = 880_000_000 + n
        elif resource == "body_measurement":
            record["user_id"] = 770_000 + n  # one measurement per member: its own member
        else:
            record["id"] = str(uuid.UUID(int=n + 1))
        _set(record, path, value)
        key_field = {"cycle": "id", "recovery": "cycle_id", "body_measurement": "user_id"}
        keys[(resource, path)] = str(record[key_field.get(resource, "id")])
        by_resource.setdefault(resource, []).append(record)
    return by_resource, keys


@pytest.fixture(scope="module")
def bad_value_run(tmp_path_factory: pytest.TempPathFactory) -> BadValueRun:
    good = generate_user(GOOD_SEED, 0, date(2025, 1, 1), DAYS)
    bad = generate_user(BAD_SEED, 1, date(2025, 1, 1), DAYS)
    resources = ("cycle", "sleep", "recovery", "workout")
    with running_pipeline(tmp_path_factory.mktemp("bad-values")) as (p, loop):
        base = [p.write(r, u.user_id, u.records(r)) for u in (good, bad) for r in resources]
        base += [p.write("body_measurement", u.user_id, [_body(u.user_id)]) for u in (good, bad)]
        loop.run_until_complete(p.load_and_wait(base))

        bad_lines, keys = _bad_records(bad)
        files = [p.write(r, bad.user_id, lines) for r, lines in bad_lines.items()]
        loop.run_until_complete(p.load_and_wait(files))

        # another member's change, published after the bad batch, reaches gold
        sleep = next(s for s in good.records("sleep") if s["score_state"] == "SCORED")
        rescored = copy.deepcopy(sleep)
        rescored["score"]["respiratory_rate"] = 19.25
        rescored["updated_at"] = iso_ms(parse_iso(sleep["updated_at"]) + 60_000)
        event = loop.run_until_complete(
            p.load_and_wait([p.write("sleep", good.user_id, [rescored])])
        )
        tests = loop.run_until_complete(p.service.handler.run_deferred_tests(force=True))

        quarantine = p.query(
            "select resource, record_key, user_id, rule, reason from silver.int_whoop__quarantine"
        )
        gold_keys = {
            resource: {
                str(r["k"]) for r in p.query(f"select cast({key} as varchar) as k from gold.{fact}")
            }
            for resource, (fact, key) in FACTS.items()
        }
        rate = p.query(
            f"select respiratory_rate from gold.fact_sleep where sleep_id = '{sleep['id']}'"
        )
        return BadValueRun(
            keys=keys,
            quarantine=quarantine,
            gold_keys=gold_keys,
            rescored_sleep_id=sleep["id"],
            rescored_rate=rate[0]["respiratory_rate"] if rate else None,
            good_user_announced=good.user_id in event.user_ids,
            failed_builds=sum(
                1 for r, o in p.service.runner.history if r.phase != "tests" and not o.success
            ),
            tests_passed=tests is not None and tests.success,
            failed_tests=[str(f) for f in (tests.failures if tests else ())],
        )


@pytest.mark.parametrize("case", BAD_FIELDS, ids=_case_id)
def test_a_wrong_type_or_format_is_quarantined_with_field_and_value(
    bad_value_run: BadValueRun, case: tuple[str, str, Any]
) -> None:
    resource, path, value = case
    key = bad_value_run.keys[(resource, path)]
    rows = [
        q
        for q in bad_value_run.quarantine
        if q["resource"] == resource and q["record_key"] == key and q["rule"] == "unparsable_field"
    ]
    assert len(rows) == 1, f"{resource} {key} not quarantined: {bad_value_run.quarantine[:3]}"
    shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    assert f'{path} = "' in rows[0]["reason"], rows[0]["reason"]
    assert shown.replace(" ", "") in rows[0]["reason"].replace(" ", ""), rows[0]["reason"]
    assert rows[0]["user_id"] is not None
    if resource in FACTS:
        assert key not in bad_value_run.gold_keys[resource], "an unparsable record reached gold"


def test_bad_values_fail_no_build_and_another_users_change_reaches_gold(
    bad_value_run: BadValueRun,
) -> None:
    assert bad_value_run.failed_builds == 0, bad_value_run.failed_tests
    assert bad_value_run.good_user_announced
    assert bad_value_run.rescored_rate == 19.25
    # gold's data tests pass with the bad records in bronze
    assert bad_value_run.tests_passed, bad_value_run.failed_tests


# ------------------------------------------------------------------ 2. naps and failing tests


@dataclass
class NapAndFailureRun:
    """Nap-linked recoveries through the pipeline, then a data test made to fail."""

    nap_tests_passed: bool
    only_nap_cycle: dict[str, Any]
    two_recovery_cycle: dict[str, Any]
    main_sleep_id: str
    nap_sleep_id: str
    lonely_nap_sleep_id: str
    recorded: list[dict[str, Any]]
    mart_rows: list[dict[str, Any]]
    metric_points: list[tuple[dict[str, Any], int]]
    builds_after_failure: int
    locks_after_failure: int
    builds_when_idle: int
    locks_when_idle: int
    retested_on_new_data: bool


def _nap_records(user: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Cycle A: its only sleep is a nap with the cycle's recovery. Cycle B: main sleep with its
    recovery, plus a nap that gets a second recovery for the same cycle (WHOOP does both)."""
    sleeps = [s for s in user.records("sleep") if s["score_state"] == "SCORED" and not s["nap"]]
    recoveries = {r["sleep_id"]: r for r in user.records("recovery")}
    with_recovery = [s for s in sleeps if s["id"] in recoveries]
    lonely, main = with_recovery[1], with_recovery[3]
    nap_only = copy.deepcopy(lonely)
    nap_only["nap"] = True
    nap_only["updated_at"] = iso_ms(parse_iso(lonely["updated_at"]) + 60_000)
    nap = copy.deepcopy(main)
    nap["id"] = str(uuid.UUID(int=0xA11CE))
    nap["nap"] = True
    wake = parse_iso(main["end"])
    nap["start"], nap["end"] = iso_ms(wake + 6 * 3_600_000), iso_ms(wake + 7 * 3_600_000)
    nap["updated_at"] = iso_ms(wake + 7 * 3_600_000 + 60_000)
    second = copy.deepcopy(recoveries[main["id"]])
    second["sleep_id"] = nap["id"]
    second["updated_at"] = iso_ms(wake + 7 * 3_600_000 + 120_000)  # newer than the main one
    second["score"]["recovery_score"] = 12.0
    ids = {"lonely": lonely["id"], "main": main["id"], "nap": nap["id"]}
    ids |= {"lonely_cycle": lonely["cycle_id"], "main_cycle": main["cycle_id"]}
    return [nap_only, nap], [second], ids


@pytest.fixture(scope="module")
def nap_and_failure_run(tmp_path_factory: pytest.TempPathFactory) -> NapAndFailureRun:
    user = generate_user(GOOD_SEED, 0, date(2025, 1, 1), DAYS)
    uid = user.user_id
    with running_pipeline(tmp_path_factory.mktemp("naps")) as (p, loop):
        handler, runner, warehouse = p.service.handler, p.service.runner, p.warehouse
        resources = ("cycle", "sleep", "recovery", "workout")
        loop.run_until_complete(
            p.load_and_wait([p.write(r, uid, user.records(r)) for r in resources])
        )
        nap_sleeps, nap_recoveries, ids = _nap_records(user)
        loop.run_until_complete(
            p.load_and_wait(
                [p.write("sleep", uid, nap_sleeps), p.write("recovery", uid, nap_recoveries)]
            )
        )
        nap_tests = loop.run_until_complete(handler.run_deferred_tests(force=True))
        recovery = {
            r["cycle_id"]: r
            for r in p.query(
                "select cycle_id, sleep_id, recovery_score from gold.fact_daily_recovery"
            )
        }

        # a sleep past the calendar (dim_date ends 2030): gold's relationships test fails
        late = copy.deepcopy(nap_sleeps[1])
        late["id"], late["nap"] = str(uuid.UUID(int=0xD0D0)), False
        late["start"], late["end"] = "2031-06-01T23:00:00.000Z", "2031-06-02T07:00:00.000Z"
        late["cycle_id"] = 990_000_001
        loop.run_until_complete(p.load_and_wait([p.write("sleep", uid, [late])]))
        builds, locks = len(runner.history), warehouse.exclusive_entries
        failed = loop.run_until_complete(handler.run_deferred_tests(force=True))
        assert failed is not None and not failed.success
        builds_after, locks_after = len(runner.history), warehouse.exclusive_entries

        # idle: the periodic job finds nothing to do, however often it runs (force skips the
        # quiet-time check, so only the absence of pending work keeps it from building)
        for _ in range(20):
            assert loop.run_until_complete(handler.run_deferred_tests(force=True)) is None
        builds_idle, locks_idle = len(runner.history), warehouse.exclusive_entries

        recorded = p.query(
            "select test_name, failing_rows, sample_keys from silver.dq_test_failures"
        )
        mart = p.query(
            "select rule, failed_test_rows, failure_sample from gold.mart_data_quality "
            "where resource = 'dbt_test'"
        )
        data = p.reader.get_metrics_data()
        points = [
            (dict(pt.attributes or {}), int(pt.value))  # type: ignore[union-attr]
            for rm in (data.resource_metrics if data else [])
            for sm in rm.scope_metrics
            for m in sm.metrics
            if m.name == DATA_TEST_FAILURES
            for pt in m.data.data_points
        ]

        # new data arrives: the failed tests are queued again with the new build's
        workout = next(w for w in user.records("workout") if w["score_state"] == "SCORED")
        workout = copy.deepcopy(workout) | {
            "updated_at": iso_ms(parse_iso(workout["updated_at"]) + 60_000)
        }
        loop.run_until_complete(p.load_and_wait([p.write("workout", uid, [workout])]))
        retested = bool(handler.pending_tests)

        return NapAndFailureRun(
            nap_tests_passed=nap_tests is not None and nap_tests.success,
            only_nap_cycle=recovery[ids["lonely_cycle"]],
            two_recovery_cycle=recovery[ids["main_cycle"]],
            main_sleep_id=ids["main"],
            nap_sleep_id=ids["nap"],
            lonely_nap_sleep_id=ids["lonely"],
            recorded=recorded,
            mart_rows=mart,
            metric_points=points,
            builds_after_failure=builds_after - builds,
            locks_after_failure=locks_after - locks,
            builds_when_idle=builds_idle - builds_after,
            locks_when_idle=locks_idle - locks_after,
            retested_on_new_data=retested,
        )


def test_recoveries_that_belong_to_naps_pass_the_gold_tests(
    nap_and_failure_run: NapAndFailureRun,
) -> None:
    run = nap_and_failure_run
    assert run.nap_tests_passed, "assert_recovery_on_its_sleep_wake_day must accept naps"
    # a cycle whose only sleep is a nap: its recovery is the nap's
    assert run.only_nap_cycle["sleep_id"] == run.lonely_nap_sleep_id
    # a nap's second recovery for a cycle: the cycle's recovery stays the main sleep's
    assert run.two_recovery_cycle["sleep_id"] == run.main_sleep_id
    assert run.two_recovery_cycle["recovery_score"] != 12.0


def test_a_failing_data_test_is_recorded_once_in_the_dq_mart_and_counted(
    nap_and_failure_run: NapAndFailureRun,
) -> None:
    run = nap_and_failure_run
    failed = {r["test_name"]: r for r in run.recorded}
    name = next(n for n in failed if n.startswith("relationships_fact_sleep_date_key"))
    assert failed[name]["failing_rows"] >= 1
    assert "20310602" in failed[name]["sample_keys"]
    mart = {r["rule"]: r for r in run.mart_rows}
    assert mart[name]["failed_test_rows"] == failed[name]["failing_rows"]
    assert "20310602" in mart[name]["failure_sample"]
    assert ({"test": name}, 1) in run.metric_points
    # the test run, then recording it: one test build plus one rebuild of the DQ mart
    assert run.builds_after_failure == 2


def test_with_no_new_data_the_transformer_takes_no_build_and_no_lock(
    nap_and_failure_run: NapAndFailureRun,
) -> None:
    run = nap_and_failure_run
    assert run.builds_when_idle == 0
    assert run.locks_when_idle == 0
    assert run.retested_on_new_data


# ------------------------------------------------------------------ write, audit, publish

_HOLD_LOCK = """
import sys, time
from pathlib import Path
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
wh = DuckDBWarehouse(Path(sys.argv[1]))
with wh.connection():  # the writer's lock and a read-write handle on the file, like dbt
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_a_failed_audit_keeps_readers_on_the_last_good_gold(tmp_path: Path) -> None:
    """Readers see only audited gold: a failing data test publishes nothing, the previous
    version stays readable, and readers never wait on a writer holding the warehouse."""
    import subprocess
    import sys

    from shared.adapters.warehouse.bronze import WarehouseLockTimeout
    from shared.adapters.warehouse.published import PublishedDuckDB

    user = generate_user(GOOD_SEED, 0, date(2025, 1, 1), DAYS)
    uid = user.user_id
    with running_pipeline(tmp_path) as (p, loop):
        readers = PublishedDuckDB(p.warehouse.published_path)
        assert readers.query("select count(*) as n from information_schema.tables") == [
            {"n": 0}
        ]  # nothing published before the first audit passed
        resources = ("cycle", "sleep", "recovery", "workout")
        loop.run_until_complete(
            p.load_and_wait([p.write(r, uid, user.records(r)) for r in resources])
        )
        audit = loop.run_until_complete(p.service.handler.run_deferred_tests(force=True))
        assert audit is not None and audit.success
        sql = f"select count(*) as n from gold.fact_sleep where user_key = {uid}"
        good = readers.query(sql)[0]["n"]
        assert good > 0 and good == p.query(sql)[0]["n"]
        published = {
            f"{r['s']}.{r['t']}"
            for r in readers.query(
                "select table_schema as s, table_name as t from information_schema.tables"
            )
        }
        assert {"gold.fact_sleep", "gold.fact_daily_recovery", "gold.dim_date"} <= published

        # A sleep past the calendar makes gold's relationships test fail: the audit fails.
        late = copy.deepcopy(next(s for s in user.records("sleep") if not s["nap"]))
        late["id"], late["cycle_id"] = str(uuid.UUID(int=0xBAD)), 990_000_002
        late["start"], late["end"] = "2031-06-01T23:00:00.000Z", "2031-06-02T07:00:00.000Z"
        loop.run_until_complete(p.load_and_wait([p.write("sleep", uid, [late])]))
        failed = loop.run_until_complete(p.service.handler.run_deferred_tests(force=True))
        assert failed is not None and not failed.success
        assert p.query(sql)[0]["n"] == good + 1  # the writers' gold has the unaudited row
        assert readers.query(sql)[0]["n"] == good  # readers stay on the last good version
        assert len(p.service.handler.publications) == 1

        # Readers never wait on writers: another process holds the lock and the file.
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(p.warehouse.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
            assert readers.query(sql)[0]["n"] == good
            writer_side = DuckDBWarehouse(p.warehouse.path, lock_timeout_s=0.2)
            with pytest.raises(WarehouseLockTimeout):  # the peer: the live file does wait
                writer_side.query(sql)
        finally:
            assert holder.stdin is not None
            holder.stdin.write("done\n")
            holder.stdin.close()
            holder.wait(timeout=60)
