"""Gold reads and ``fact_predictions`` writes through the ``Warehouse`` port.

Writes are idempotent without a multi-statement transaction (the port runs each statement in
its own): first a ``MERGE`` upserts this run's rows on ``(user_key, date_key, model_name)``,
then a ``DELETE`` removes rows of the same user and model in the rescored window that this run
did not write (``run_id`` differs) — predictions whose input days vanished from gold. A crash
between the two leaves stale rows that the next run removes; readers never see a gap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from ml.data import GoldFrames, read_gold
from ml.features import date_to_date_key, next_day
from scorer.domain.scoring import PREDICTION_COLUMNS
from shared.ports import Warehouse

log = logging.getLogger(__name__)

PREDICTIONS_TABLE = "gold.fact_predictions"
_INSERT_CHUNK = 500

CREATE_PREDICTIONS = f"""
create table if not exists {PREDICTIONS_TABLE} (
    user_key bigint not null,
    date_key integer not null,
    model_name varchar not null,
    model_version varchar not null,
    predicted_recovery double,
    lower_80 double,
    upper_80 double,
    is_anomaly boolean,
    anomaly_score double,
    anomaly_reasons varchar,
    scored_at timestamp,
    run_id varchar,
    primary key (user_key, date_key, model_name)
)
"""

_CASTS: dict[str, str] = {
    "user_key": "bigint",
    "date_key": "integer",
    "model_name": "varchar",
    "model_version": "varchar",
    "predicted_recovery": "double",
    "lower_80": "double",
    "upper_80": "double",
    "is_anomaly": "boolean",
    "anomaly_score": "double",
    "anomaly_reasons": "varchar",
    "scored_at": "timestamp",
    "run_id": "varchar",
}


class PredictionRepository:
    """The scorer's only view of the warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def ensure_table(self) -> None:
        """Create ``gold.fact_predictions`` if absent (dbt never builds it)."""
        self.warehouse.execute("create schema if not exists gold")
        self.warehouse.execute(CREATE_PREDICTIONS)

    def delete_user(self, user_id: int) -> int:
        """Delete every prediction of a member ("delete my data"); returns rows deleted."""
        member = int(user_id)  # an int literal: no injection, no driver-specific binding
        where = f"where user_key = {member}"
        with self.warehouse.exclusive():
            rows = self.warehouse.query(f"select count(*) as n from {PREDICTIONS_TABLE} {where}")  # noqa: S608
            count = int(next(iter(rows[0].values()))) if rows else 0
            if count:
                self.warehouse.execute(f"delete from {PREDICTIONS_TABLE} {where}")  # noqa: S608
        return count

    def publish(self) -> int | None:
        """Publish ``fact_predictions`` to readers (write-audit-publish); rows, or ``None``.

        ``None`` when the warehouse has no separate published version (test fakes).
        """
        if not self.warehouse.publishes:
            return None
        return self.warehouse.publish([PREDICTIONS_TABLE]).get(PREDICTIONS_TABLE, 0)

    def read_gold(self, user_id: int) -> GoldFrames:
        """All gold facts of one user (full history: rolling features need it)."""
        return read_gold(self.warehouse, user_id)

    def users_with_gold(self) -> list[int]:
        """Every user with a gold recovery; empty before dbt has built gold at all."""
        exists = self.warehouse.query(
            "select count(*) as n from information_schema.tables "
            "where lower(table_schema) = 'gold' and lower(table_name) = 'fact_daily_recovery'"
        )
        if not exists or int(next(iter(exists[0].values()))) == 0:
            return []
        rows = self.warehouse.query(
            "select distinct user_key from gold.fact_daily_recovery order by user_key"
        )
        return [int(next(iter(r.values()))) for r in rows]

    def rows_of_other_versions(self, model_name: str, version: str) -> int:
        """How many rows of ``model_name`` were written by a version other than ``version``."""
        rows = self.warehouse.query(
            f"select count(*) as n from {PREDICTIONS_TABLE} "
            "where model_name = ? and model_version <> ?",
            [model_name, version],
        )
        return int(next(iter(rows[0].values()))) if rows else 0

    def write(
        self,
        user_id: int,
        model_names: Sequence[str],
        rows: pd.DataFrame,
        *,
        run_id: str,
        since: date | None,
    ) -> int:
        """Upsert ``rows`` and drop this user's stale rows of ``model_names`` in the window.

        Args:
            user_id: the user every row belongs to.
            model_names: models this run was responsible for (stale rows of others survive).
            rows: output of :func:`scorer.domain.scoring.score`.
            run_id: the run that wrote ``rows``.
            since: first changed gold day; rows with target day after it were rescored.
                ``None`` rescored the whole history.

        Returns:
            Number of rows written.
        """
        records = [_record(row) for row in rows.itertuples(index=False)]
        for start in range(0, len(records), _INSERT_CHUNK):
            self._merge(records[start : start + _INSERT_CHUNK])
        floor = date_to_date_key(next_day(since)) if since is not None else 0
        for name in model_names:
            self.warehouse.execute(
                f"delete from {PREDICTIONS_TABLE} "
                "where user_key = ? and model_name = ? and date_key >= ? and run_id <> ?",
                [user_id, name, floor, run_id],
            )
        return len(records)

    def _merge(self, records: Sequence[tuple[Any, ...]]) -> None:
        if not records:
            return
        width = len(PREDICTION_COLUMNS)
        placeholders = ", ".join("(" + ", ".join(["?"] * width) + ")" for _ in records)
        select_list = ", ".join(f"cast({c} as {_CASTS[c]}) as {c}" for c in PREDICTION_COLUMNS)
        updates = ", ".join(
            f"{c} = s.{c}"
            for c in PREDICTION_COLUMNS
            if c not in ("user_key", "date_key", "model_name")
        )
        columns = ", ".join(PREDICTION_COLUMNS)
        values = ", ".join(f"s.{c}" for c in PREDICTION_COLUMNS)
        sql = (
            f"merge into {PREDICTIONS_TABLE} as t using ("
            f"select {select_list} from (values {placeholders}) as v({columns})"
            ") as s on t.user_key = s.user_key and t.date_key = s.date_key "
            "and t.model_name = s.model_name "
            f"when matched then update set {updates} "
            f"when not matched then insert ({columns}) values ({values})"
        )
        params = [value for record in records for value in record]
        self.warehouse.execute(sql, params)


def _record(row: Any) -> tuple[Any, ...]:
    """One frame row → plain Python values (the warehouse driver binds no numpy types)."""
    values: list[Any] = []
    for column, value in zip(PREDICTION_COLUMNS, row, strict=True):
        if value is None or (isinstance(value, float) and value != value):
            values.append(None)
        elif column in ("user_key", "date_key"):
            values.append(int(value))
        elif column == "is_anomaly":
            values.append(bool(value))
        elif column in ("predicted_recovery", "lower_80", "upper_80", "anomaly_score"):
            values.append(round(float(value), 3))
        elif column == "scored_at":
            values.append(pd.Timestamp(value).to_pydatetime().replace(tzinfo=None))
        else:
            values.append(str(value))
    return tuple(values)
