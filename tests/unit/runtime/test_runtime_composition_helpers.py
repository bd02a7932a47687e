"""The helpers every bootstrap and entrypoint shares: owned-adapter closing, process run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.adapters.blob.service_client import blob_service_client
from shared.api_keys import ApiKeyGrant, match_api_key
from shared.composition import close_owned, own_job_store
from shared.errors import ConfigurationError
from shared.runtime import ServiceRunner, run_service
from shared.settings import PlatformSettings


async def test_close_owned_closes_last_built_first_and_awaits_async_closers() -> None:
    closed: list[str] = []

    def sync_close() -> None:
        closed.append("sync")

    async def async_close() -> None:
        closed.append("async")

    await close_owned([sync_close, async_close])
    assert closed == ["async", "sync"]


def test_own_job_store_keeps_a_given_store_and_owns_a_built_one(tmp_path: Path) -> None:
    owned: list[Callable[[], object]] = []
    built = own_job_store(None, PlatformSettings(data_dir=tmp_path), owned)
    assert owned == [built.close]
    assert own_job_store(built, PlatformSettings(data_dir=tmp_path), owned) is built
    assert len(owned) == 1


def test_blob_service_client_names_the_caller_when_unconfigured(tmp_path: Path) -> None:
    settings = PlatformSettings(
        data_dir=tmp_path, blob_account_url=None, blob_connection_string=None
    )
    with pytest.raises(ConfigurationError, match="^job store needs WDP_BLOB_ACCOUNT_URL"):
        blob_service_client(settings, purpose="job store")


def test_match_api_key_resolves_grants_and_refuses_unknown_keys() -> None:
    keys: dict[str, ApiKeyGrant] = {"adm": "admin", "member": [7, 8]}
    admin = match_api_key(keys, "adm")
    member = match_api_key(keys, "member")
    assert admin is not None and admin.admin and admin.subject == "api-key-0"
    assert member is not None and not member.admin and member.user_ids == frozenset({7, 8})
    assert match_api_key(keys, "nope") is None


async def test_run_service_closes_even_when_start_fails(tmp_path: Path) -> None:
    runner = ServiceRunner("svc", [], health_dir=tmp_path)
    closed = asyncio.Event()

    async def close() -> None:
        closed.set()

    async def start() -> None:
        raise RuntimeError("warm-up failed")

    with pytest.raises(RuntimeError, match="warm-up failed"):
        await run_service(runner, close, start=start)
    assert closed.is_set()


async def test_run_service_runs_until_stopped_then_closes(tmp_path: Path) -> None:
    runner = ServiceRunner("svc", [], health_dir=tmp_path)
    closed = asyncio.Event()

    async def close() -> None:
        closed.set()

    async def start() -> None:
        runner.stop.set()  # as SIGTERM would

    await asyncio.wait_for(run_service(runner, close, start=start), timeout=10)
    assert closed.is_set()
    assert not (tmp_path / "svc.json").exists()
