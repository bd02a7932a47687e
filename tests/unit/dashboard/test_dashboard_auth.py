"""Isolation and error mapping through the real app with a fake Warehouse (no I/O)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from dashboard_fakes import FakeWarehouse
from pydantic import ValidationError

from dashboard.app import create_app
from dashboard.auth import ApiKeyAuthenticator, Principal
from dashboard.settings import DashboardSettings
from shared.errors import ConfigurationError

ADMIN = "admin-key-000000000000"
ROSA = "rosa-key-0000000000000"
ROSA_ID, OTHER_ID = 24601, 10100


def _gold() -> dict[str, list[dict[str, object]]]:
    rows = []
    for uid, score in ((ROSA_ID, 81.0), (OTHER_ID, 12.0)):
        rows.append(
            {
                "user_key": uid,
                "date_key": 20260105,
                "recovery_score": score,
                "hrv_rmssd_ms": 61.5,
                "resting_heart_rate_bpm": 52.0,
                "updated_at": datetime(2026, 1, 5, 8),
            }
        )
    return {"gold.fact_daily_recovery": rows}


def _settings() -> DashboardSettings:
    return DashboardSettings(environment="test", api_keys={ADMIN: "admin", ROSA: [ROSA_ID]})


@pytest.fixture
def warehouse() -> FakeWarehouse:
    return FakeWarehouse(_gold())


@pytest.fixture
async def client(warehouse: FakeWarehouse) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_settings(), warehouse=warehouse)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dashboard"
    ) as c:
        yield c


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/users/{OTHER_ID}/overview",
        f"/api/v1/users/{OTHER_ID}/sleep",
        f"/api/v1/users/{OTHER_ID}/workouts",
        f"/api/v1/users/{OTHER_ID}/aggregates/weekly",
        f"/api/v1/users/{OTHER_ID}/aggregates/monthly",
        "/api/v1/data-quality",
        f"/users/{OTHER_ID}",
        f"/users/{OTHER_ID}/sleep",
        f"/users/{OTHER_ID}/workouts",
        f"/users/{OTHER_ID}/trends",
        "/quality",
    ],
)
async def test_member_gets_403_for_anything_not_theirs_before_any_query(
    client: httpx.AsyncClient, warehouse: FakeWarehouse, path: str
) -> None:
    response = await client.get(path, headers={"X-API-Key": ROSA})
    assert response.status_code == 403
    assert warehouse.calls == []  # refused before the warehouse is touched


async def test_member_reads_own_overview_and_admin_reads_everyone(
    client: httpx.AsyncClient,
) -> None:
    own = await client.get(f"/api/v1/users/{ROSA_ID}/overview", headers={"X-API-Key": ROSA})
    assert own.status_code == 200
    assert own.json()["recovery"]["recovery_score"] == 81.0
    assert own.json()["recovery"]["recovery_band"] == "green"
    other = await client.get(f"/api/v1/users/{OTHER_ID}/overview", headers={"X-API-Key": ADMIN})
    assert other.json()["recovery"]["recovery_band"] == "red"


async def test_user_ids_are_bound_parameters_never_sql_text(
    client: httpx.AsyncClient, warehouse: FakeWarehouse
) -> None:
    await client.get(f"/api/v1/users/{ROSA_ID}/overview", headers={"X-API-Key": ROSA})
    user_queries = [(sql, params) for sql, params in warehouse.calls if "user_key" in sql]
    assert user_queries
    for sql, params in user_queries:
        assert str(ROSA_ID) not in sql and ROSA_ID in params


async def test_missing_or_unknown_key_is_401_for_api_and_login_redirect_for_pages(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/v1/users")).status_code == 401
    wrong = await client.get("/api/v1/users", headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401
    page = await client.get(f"/users/{ROSA_ID}/sleep?days=3")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/users/24601/sleep%3Fdays%3D3"


async def test_login_cookie_authenticates_pages(client: httpx.AsyncClient) -> None:
    login = await client.post("/login", data={"api_key": ROSA, "next": f"/users/{ROSA_ID}"})
    assert login.status_code == 303 and login.headers["location"] == f"/users/{ROSA_ID}"
    page = await client.get(f"/users/{ROSA_ID}")
    assert page.status_code == 200 and "81%" in page.text
    assert (await client.post("/logout")).status_code == 303
    assert (await client.get(f"/users/{ROSA_ID}")).status_code == 303


async def test_busy_warehouse_is_503_with_retry_after() -> None:
    app = create_app(_settings(), warehouse=FakeWarehouse(busy=True))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dashboard"
    ) as c:
        api = await c.get(f"/api/v1/users/{ROSA_ID}/overview", headers={"X-API-Key": ROSA})
        page = await c.get("/quality", headers={"X-API-Key": ADMIN})
    assert api.status_code == 503 and api.headers["retry-after"]
    assert page.status_code == 503 and "Warehouse busy" in page.text


async def test_healthz_needs_no_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}


def test_principal_rules() -> None:
    member = Principal(subject="m", user_ids=frozenset({1}))
    assert member.may_read(1) and not member.may_read(2)
    assert Principal(subject="a", admin=True).may_read(2)
    auth = ApiKeyAuthenticator({"k1": [1, 2]})
    assert auth.authenticate("k1").user_ids == frozenset({1, 2})


def test_settings_refuse_placeholder_keys_and_bad_schema_names() -> None:
    with pytest.raises((ConfigurationError, ValidationError)):
        DashboardSettings(environment="prod", api_keys={"admin": "admin"})
    with pytest.raises(ValidationError):
        DashboardSettings(gold_schema="gold; drop table x")
    assert DashboardSettings(environment="dev", api_keys={"dev": "admin"}).api_keys


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WDP_DASHBOARD_API_KEYS", '{"k-ops-0123456789abc": "admin", "k2": [7]}')
    monkeypatch.setenv("WDP_DASHBOARD_PORT", "9001")
    settings = DashboardSettings()
    assert settings.port == 9001 and settings.api_keys["k2"] == [7]
