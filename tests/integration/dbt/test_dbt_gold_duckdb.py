"""Gold on DuckDB equals the simulator's ground truth (3 users x 1 year: travel, naps,
re-scores, deletes, corrupted records), after a full build and an incremental one."""

from __future__ import annotations

import pytest
from dbt_world import BuiltWarehouse, SimWorld, built_node_ids
from gold_compare import LOAD_COLUMNS, PRIMARY_KEYS, SPEC_COLUMNS, diff_rows, expected_rows

from whoop_simulator.ground_truth import expected_gold


@pytest.mark.parametrize("table", sorted(PRIMARY_KEYS))
def test_gold_fact_equals_ground_truth(
    table: str, duckdb_gold: BuiltWarehouse, sim_world: SimWorld
) -> None:
    expected = expected_rows(sim_world.users, table, sim_world.corrupt_rate)
    actual = duckdb_gold.query(f"select * from gold.{table}")
    assert expected, "the simulation must produce rows for every fact"
    assert diff_rows(table, actual, expected, ignore=LOAD_COLUMNS) == []


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_gold_has_every_specified_column(table: str, duckdb_gold: BuiltWarehouse) -> None:
    rows = duckdb_gold.query(
        "select column_name from information_schema.columns "
        f"where table_schema = 'gold' and table_name = '{table}'"
    )
    assert set(SPEC_COLUMNS[table]) - {r["column_name"] for r in rows} == set()


def test_specified_keys_and_values(duckdb_gold: BuiltWarehouse) -> None:
    stages = duckdb_gold.query("select sleep_stage_name from gold.dim_sleep_stage")
    assert sorted(r["sleep_stage_name"] for r in stages) == ["Awake", "Deep", "Light", "REM"]
    keys = duckdb_gold.query(
        "select recovery_id, md5('recovery|' || cast(cycle_id as varchar)) as expected "
        "from gold.fact_daily_recovery"
    )
    assert keys and all(r["recovery_id"] == r["expected"] for r in keys)
    days = duckdb_gold.query(
        "select count(*) as n, count(distinct (user_key, date_key)) as days from gold.fact_strain"
    )
    assert days[0]["n"] == days[0]["days"] > 0  # never two strain rows for one user-day


def test_load_timestamp_is_the_bronze_load_of_the_version_in_gold(
    duckdb_gold: BuiltWarehouse,
) -> None:
    """The bronze row whose record version built the gold row (same id and updated_at)."""
    checks = {
        "fact_sleep": ("raw_sleep", "f.sleep_id"),
        "fact_workouts": ("raw_workout", "f.workout_id"),
        "fact_daily_recovery": ("raw_recovery", "cast(f.cycle_id as varchar)"),
    }
    for table, (raw, key) in checks.items():
        rows = duckdb_gold.query(
            f"select count(*) as n, count(b.record_id) as matched from gold.{table} f "
            f"left join bronze.{raw} b on b.record_id = {key} and not b.is_tombstone "
            "and b.updated_at = f.updated_at and b.load_timestamp = f.load_timestamp"
        )
        assert rows[0]["n"] > 0 and rows[0]["matched"] >= rows[0]["n"], table


def test_unscored_sleeps_and_workouts_are_facts(duckdb_gold: BuiltWarehouse) -> None:
    rows = duckdb_gold.query(
        "select 'sleep' as t, score_state, count(*) as n, count(total_sleep_minutes) as scored "
        "from gold.fact_sleep group by all union all "
        "select 'workout', score_state, count(*), count(strain_score) "
        "from gold.fact_workouts group by all"
    )
    unscored = [r for r in rows if r["score_state"] != "SCORED"]
    assert unscored, "the simulation must produce unscored sleeps or workouts"
    assert all(r["scored"] == 0 for r in unscored)


def test_world_covers_the_hard_cases(sim_world: SimWorld) -> None:
    kinds = {e.kind for user in sim_world.users for e in user.events}
    assert {"travel", "nap", "rescore", "delete"} <= kinds


def test_quarantine_matches_corrupted_records(
    duckdb_gold: BuiltWarehouse, sim_world: SimWorld
) -> None:
    expected = {
        (q["resource"], q["record_id"])
        for user in sim_world.users
        for q in expected_gold(user, corrupt_rate=sim_world.corrupt_rate)["quarantine"]
    }
    actual = {
        (r["resource"], r["record_key"])
        for r in duckdb_gold.query("select resource, record_key from silver.int_whoop__quarantine")
    }
    assert expected, "corruption must be switched on for this test to mean anything"
    assert actual == expected


def test_quarantined_rows_are_counted_in_data_quality_mart(duckdb_gold: BuiltWarehouse) -> None:
    rows = duckdb_gold.query(
        "select sum(quarantined_rows) as q from gold.mart_data_quality where rule = 'all'"
    )
    total = duckdb_gold.query("select count(*) as n from silver.int_whoop__quarantine")
    assert rows[0]["q"] == total[0]["n"] > 0


def test_deleted_records_are_gone_from_gold(duckdb_gold: BuiltWarehouse) -> None:
    tombstoned = duckdb_gold.query(
        "select record_id from bronze.raw_sleep where is_tombstone "
        "and record_id not in (select record_id from bronze.raw_sleep b where not b.is_tombstone "
        "and b.updated_at > (select max(t.updated_at) from bronze.raw_sleep t "
        "where t.is_tombstone and t.record_id = b.record_id))"
    )
    assert tombstoned, "the simulation must delete some sleeps"
    ids = ", ".join(f"'{r['record_id']}'" for r in tombstoned)
    assert (
        duckdb_gold.query(f"select sleep_id from gold.fact_sleep where sleep_id in ({ids})") == []
    )


def test_aggregates_are_consistent_with_facts(duckdb_gold: BuiltWarehouse) -> None:
    weekly = duckdb_gold.query("select sum(workout_count) as n from gold.agg_weekly_user")
    monthly = duckdb_gold.query("select sum(workout_count) as n from gold.agg_monthly_user")
    facts = duckdb_gold.query("select count(*) as n from gold.fact_workouts")
    assert weekly[0]["n"] == monthly[0]["n"] == facts[0]["n"] > 0


def test_dim_date_calendar(duckdb_gold: BuiltWarehouse) -> None:
    rows = duckdb_gold.query(
        "select date_key, day_of_week, day_name, week_of_year, is_weekend, is_holiday "
        "from gold.dim_date where date_key in (20250101, 20250105, 20251229, 20250704)"
    )
    by_key = {r["date_key"]: r for r in rows}
    assert by_key[20250101]["is_holiday"] and by_key[20250101]["day_of_week"] == 3
    assert by_key[20250105]["is_weekend"] and by_key[20250105]["day_name"] == "Sunday"
    assert by_key[20251229]["week_of_year"] == 1  # ISO week 1 of 2026
    assert by_key[20250704]["is_holiday"]


def test_dbt_unit_tests_ran_and_passed(duckdb_gold: BuiltWarehouse) -> None:
    unit_tests = {n for n in built_node_ids(duckdb_gold.runner) if n.startswith("unit_test.")}
    names = {n.rsplit(".", 1)[-1] for n in unit_tests}
    assert {
        "sleep_day_is_local_date_of_end",
        "cycle_day_follows_main_sleep_not_nap",
        "recovery_day_follows_its_sleep",
        "stg_sleeps_dedupes_to_latest_updated_at",
        "stg_sleeps_applies_tombstones",
        "stg_recoveries_tombstones_keyed_by_sleep_id",
        "strain_day_aggregates_cycles_sharing_a_day",
    } <= names


def test_incremental_build_ran_incremental_facts(duckdb_gold: BuiltWarehouse) -> None:
    second = duckdb_gold.runner.history[-1][1]
    assert "model.whoop_platform.fact_sleep" in second.node_ids
    assert duckdb_gold.timings_s["incremental_build"] > 0
