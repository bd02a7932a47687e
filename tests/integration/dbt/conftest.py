"""Fixtures of the dbt tests; they live in dbt_world.py so tests can import its types."""

from dbt_world import duckdb_gold, sim_world

__all__ = ["duckdb_gold", "sim_world"]
