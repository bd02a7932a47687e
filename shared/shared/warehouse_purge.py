"""Delete one member's rows from the warehouse tables a service owns ("delete my data").

Tables are found, not listed: every base table in the given schemas that has a ``user_id`` or
``user_key`` column, plus (bronze bookkeeping) every table with a ``blob_path`` column, whose
paths carry ``user_id=<id>/`` by the bronze convention. A model or table added later is
therefore purged without anyone remembering to add it here. Views need nothing: they are
derived from the tables. Written against ``information_schema`` and plain ``DELETE``, so the
same code runs on DuckDB and Snowflake (and fakesnow).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence

from shared.ports.warehouse import Warehouse

log = logging.getLogger(__name__)

USER_COLUMNS = ("user_id", "user_key")
PATH_COLUMN = "blob_path"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def user_tables(
    warehouse: Warehouse, schemas: Sequence[str], *, keep: Collection[str] = ()
) -> list[tuple[str, str, str]]:
    """``(schema, table, column)`` for every base table in ``schemas`` holding member rows.

    ``keep`` names tables another service owns (lower-case, unqualified); they are skipped.
    """
    wanted = ", ".join(f"'{_identifier(s).lower()}'" for s in schemas)
    columns = ", ".join(f"'{c}'" for c in (*USER_COLUMNS, PATH_COLUMN))
    rows = warehouse.query(
        "select c.table_schema as table_schema, c.table_name as table_name, "
        "c.column_name as column_name "
        "from information_schema.columns c join information_schema.tables t "
        "on c.table_schema = t.table_schema and c.table_name = t.table_name "
        f"where lower(c.table_schema) in ({wanted}) and lower(c.column_name) in ({columns}) "
        "and t.table_type = 'BASE TABLE' order by 1, 2, 3"
    )
    found: dict[tuple[str, str], str] = {}
    for row in rows:
        schema, table, column = (str(row[k]) for k in ("table_schema", "table_name", "column_name"))
        if table.lower() in keep:
            continue
        # Prefer the member column over the path column when a table has both.
        if (schema, table) not in found or column.lower() in USER_COLUMNS:
            found[(schema, table)] = column
    return [(s, t, c) for (s, t), c in sorted(found.items())]


def delete_user_rows(
    warehouse: Warehouse,
    user_id: int,
    schemas: Sequence[str],
    *,
    keep: Collection[str] = (),
) -> dict[str, int]:
    """Delete ``user_id``'s rows from every owned table; returns rows deleted per table.

    Idempotent: a redelivered purge deletes nothing more. Runs under the warehouse's write lock
    so it never interleaves with a dbt build or a load on DuckDB.
    """
    member = int(user_id)  # an int literal cannot inject; bound parameters differ per driver
    deleted: dict[str, int] = {}
    with warehouse.exclusive():
        for schema, table, column in user_tables(warehouse, schemas, keep=keep):
            relation = f"{_identifier(schema)}.{_identifier(table)}"
            if column.lower() == PATH_COLUMN:
                where = f"{column} like '%/user_id={member}/%'"
            else:
                where = f"{column} = {member}"
            count = warehouse.query(f"select count(*) as n from {relation} where {where}")  # noqa: S608
            n = int(next(iter(count[0].values()))) if count else 0
            if n:
                warehouse.execute(f"delete from {relation} where {where}")  # noqa: S608
            deleted[relation.lower()] = n
    log.info(
        "purged member rows",
        extra={"user_id": member, "tables": len(deleted), "rows": sum(deleted.values())},
    )
    return deleted


__all__ = ["delete_user_rows", "user_tables"]
