"""A fake ``Warehouse`` for the dashboard unit tests: canned rows per table, every call logged.

It answers the dashboard's queries by the table named in the SQL (and filters on the bound
``user_key`` parameter), which is all the service needs; no SQL engine, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from shared.errors import TransientError
from shared.ports import BronzeFile, LoadResult, Warehouse

_TABLE = re.compile(r"from\s+(gold|bronze)\.(\w+)", re.IGNORECASE)


class FakeWarehouse(Warehouse):
    """``tables``: ``"gold.fact_sleep" -> rows``; ``busy`` makes every query a lock timeout."""

    def __init__(
        self, tables: Mapping[str, list[dict[str, Any]]] | None = None, *, busy: bool = False
    ) -> None:
        self.tables = dict(tables or {})
        self.busy = busy
        self.calls: list[tuple[str, list[Any]]] = []

    def ensure_schema(self) -> None:
        raise AssertionError("the dashboard never creates tables")

    def load_bronze(self, batch_id: str, files: Sequence[BronzeFile]) -> LoadResult:
        raise AssertionError("the dashboard never loads")

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        raise AssertionError("the dashboard never writes")

    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        bound = list(params or [])
        self.calls.append((sql, bound))
        if self.busy:
            raise TransientError("warehouse lock not acquired in time")
        if "information_schema.tables" in sql:
            # Snowflake-style upper-case names: the reader must normalise them.
            return [
                {"TABLE_SCHEMA": name.split(".")[0], "TABLE_NAME": name.split(".")[1]}
                for name in self.tables
            ]
        match = _TABLE.search(sql)
        assert match, sql
        rows = self.tables.get(f"{match.group(1)}.{match.group(2)}".lower(), [])
        if "user_key = ?" in sql:
            rows = [r for r in rows if r.get("user_key") == bound[0]]
        if "max(date_key)" in sql:
            keys = [r["date_key"] for r in rows]
            return [{"date_key": max(keys) if keys else None}]
        if "order by date_key desc" in sql:
            rows = sorted(rows, key=lambda r: r["date_key"], reverse=True)[:1]
        return [dict(r) for r in rows]
