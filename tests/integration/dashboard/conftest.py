"""One real gold layer per session (bronze → dbt → scorer), shared by the dashboard tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashboard_gold import build_gold, gold_rows, sim_users

from dashboard.app import create_app
from dashboard.settings import DashboardSettings
from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from whoop_simulator.generator import SimUser

SEED = 424242
N_USERS = 2
DAYS = 100
END = date(2026, 11, 20)
CORRUPT_RATE = 0.04
ADMIN_KEY = "admin-key-0123456789"
MEMBER_KEYS = {0: "member-key-user-0-abcdef", 1: "member-key-user-1-abcdef"}
EMPTY_MEMBER_KEY = "member-key-nobody-abcdef"
NO_DATA_USER = 999


@dataclass
class GoldWorld:
    """The warehouse the dashboard reads and the oracle rows to check it against."""

    warehouse: DuckDBWarehouse
    users: list[SimUser]
    expected: dict[str, list[dict[str, Any]]]
    broken_blob: str

    def rows(self, table: str, user_id: int) -> list[dict[str, Any]]:
        return [r for r in self.expected[table] if r["user_key"] == user_id]


def dashboard_settings(users: list[SimUser]) -> DashboardSettings:
    keys: dict[str, Any] = {ADMIN_KEY: "admin", EMPTY_MEMBER_KEY: [NO_DATA_USER]}
    keys.update({MEMBER_KEYS[i]: [u.user_id] for i, u in enumerate(users)})
    return DashboardSettings(environment="test", api_keys=keys)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoldWorld]:
    tmp = tmp_path_factory.mktemp("dashboard-gold")
    warehouse = DuckDBWarehouse(tmp / "warehouse.duckdb", lock_timeout_s=30.0)
    users = sim_users(SEED, N_USERS, DAYS, END)
    broken = build_gold(warehouse, users, tmp, corrupt_rate=CORRUPT_RATE)
    yield GoldWorld(
        warehouse=warehouse,
        users=users,
        expected=gold_rows(users, CORRUPT_RATE),
        broken_blob=broken,
    )
    warehouse.close()


@pytest.fixture
async def client(world: GoldWorld) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dashboard_settings(world.users), warehouse=world.warehouse)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as c:
        yield c


def as_key(date_value: date) -> int:
    return date_value.year * 10000 + date_value.month * 100 + date_value.day


def empty_warehouse(tmp_path: Path) -> DuckDBWarehouse:
    """A warehouse file with nothing in it (a platform before its first load)."""
    return DuckDBWarehouse(tmp_path / "empty.duckdb", lock_timeout_s=30.0)
