"""The dashboard's use cases: authorise, read through :class:`GoldReader`, build the view.

Routes (JSON and HTML alike) call exactly one method here, so the isolation rule is checked
in one place before any query runs, and a page can never show more than its API returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from dashboard.auth import Principal
from dashboard.domain import views
from dashboard.domain.models import (
    AggregatesResponse,
    DataQualityResponse,
    OverviewResponse,
    Period,
    SleepResponse,
    UsersResponse,
    UserSummary,
    WorkoutsResponse,
)
from dashboard.repository import GoldReader
from dashboard.settings import DashboardSettings

log = logging.getLogger(__name__)

_QUARANTINE_FILES_SHOWN = 20


class DashboardService:
    """Read-only queries behind every page; each method enforces the caller's scope first."""

    def __init__(
        self,
        reader: GoldReader,
        settings: DashboardSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.reader = reader
        self.settings = settings
        self.clock = clock

    def users(self, principal: Principal) -> UsersResponse:
        """Members the caller may read; a member key lists its own ids even before any data."""
        tables = self.reader.existing_tables()
        only = None if principal.admin else sorted(principal.user_ids)
        rows = self.reader.users(tables, only)
        found = {
            int(r["user_key"]): UserSummary(
                user_id=int(r["user_key"]),
                first_day=views.key_to_date(r["first_date_key"])
                if r.get("first_date_key") is not None
                else None,
                last_day=views.key_to_date(r["last_date_key"])
                if r.get("last_date_key") is not None
                else None,
                recovery_days=int(r.get("recovery_days") or 0),
            )
            for r in rows
        }
        if only is not None:
            for uid in only:
                found.setdefault(uid, UserSummary(user_id=uid))
        users = [found[k] for k in sorted(found)]
        message = None if users else "No members have data yet: connect one and run a sync."
        return UsersResponse(users=users, message=message)

    def overview(self, principal: Principal, user_id: int) -> OverviewResponse:
        """Latest cards, the recovery trend with predictions, anomalies and tomorrow."""
        principal.require_user(user_id)
        tables = self.reader.existing_tables()
        latest = self.reader.latest_recovery(tables, user_id)
        recoveries: list[dict[str, object]] = []
        predictions: list[dict[str, object]] = []
        if latest is not None:
            start, end = views.window(
                views.key_to_date(int(latest["date_key"])), self.settings.trend_days
            )
            recoveries = self.reader.recoveries(
                tables, user_id, views.date_to_key(start), views.date_to_key(end)
            )
            predictions = self.reader.predictions(tables, user_id, views.date_to_key(start))
        return views.build_overview(
            user_id,
            latest_recovery=latest,
            latest_strain=self.reader.latest_strain(tables, user_id),
            latest_sleep=self.reader.latest_sleep(tables, user_id),
            recoveries=recoveries,
            predictions=predictions,
            trend_days=self.settings.trend_days,
            model_preference=self.settings.prediction_models,
        )

    def sleep(self, principal: Principal, user_id: int, days: int | None = None) -> SleepResponse:
        """Stage minutes per night for the ``days`` ending on the newest sleep."""
        principal.require_user(user_id)
        tables = self.reader.existing_tables()
        stages = self.reader.sleep_stages(tables)
        last = self.reader.latest_date_key(tables, "fact_sleep", user_id)
        if last is None:
            return views.build_sleep(
                user_id, sleeps=[], stage_rows=stages, window_start=None, window_end=None
            )
        start, end = views.window(views.key_to_date(last), days or self.settings.sleep_days)
        rows = self.reader.sleeps(tables, user_id, views.date_to_key(start), last)
        return views.build_sleep(
            user_id, sleeps=rows, stage_rows=stages, window_start=start, window_end=end
        )

    def workouts(
        self, principal: Principal, user_id: int, days: int | None = None
    ) -> WorkoutsResponse:
        """Workouts by activity type for the ``days`` ending on the newest workout."""
        principal.require_user(user_id)
        tables = self.reader.existing_tables()
        last = self.reader.latest_date_key(tables, "fact_workouts", user_id)
        if last is None:
            return views.build_workouts(
                user_id, workouts=[], activity_types={}, window_start=None, window_end=None
            )
        start, end = views.window(views.key_to_date(last), days or self.settings.workout_days)
        rows = self.reader.workouts(tables, user_id, views.date_to_key(start), last)
        keys = {int(r["activity_type_key"]) for r in rows if r.get("activity_type_key") is not None}
        keys.add(views.UNKNOWN_ACTIVITY_KEY)
        dims = self.reader.activity_types(tables, sorted(keys))
        return views.build_workouts(
            user_id, workouts=rows, activity_types=dims, window_start=start, window_end=end
        )

    def aggregates(self, principal: Principal, user_id: int, period: Period) -> AggregatesResponse:
        """Weekly or monthly averages (the agg marts), oldest first."""
        principal.require_user(user_id)
        tables = self.reader.existing_tables()
        limit = (
            self.settings.aggregate_weeks if period == "weekly" else self.settings.aggregate_months
        )
        rows = self.reader.aggregates(tables, user_id, period, limit)
        return views.build_aggregates(user_id, period, rows)

    def data_quality(self, principal: Principal) -> DataQualityResponse:
        """DQ mart totals, quarantined files and gold freshness (admins only)."""
        principal.require_admin()
        tables = self.reader.existing_tables()
        count, files = self.reader.quarantine_files(tables, _QUARANTINE_FILES_SHOWN)
        return views.build_data_quality(
            mart_rows=self.reader.data_quality(tables),
            quarantine_files=files,
            quarantine_file_count=count,
            gold_tables=self.reader.gold_freshness(tables),
            now=self.clock(),
            quarantined_lines=self.reader.quarantine_records(tables),
        )
