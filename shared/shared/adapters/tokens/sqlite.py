"""``SqliteTokenStore``: users and Fernet-encrypted tokens in one SQLite file (local profile).

The per-user refresh lock is an ``flock`` on a per-user lock file next to the database: it is
released by the kernel when a process dies (even on ``kill -9``), so a crashed refresher never
wedges a user, and it excludes other processes *and* other coroutines of this process (each
acquisition opens its own file description).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from shared.adapters.tokens.crypto import decrypt_tokens, encrypt_tokens, fernet_from_secret
from shared.errors import TransientError
from shared.ports.tokens import StoredTokens, TokenStore, UserRecord, UserStatus
from shared.settings import PlatformSettings

_SCHEMA = """
create table if not exists users (
    user_id integer primary key,
    status text not null,
    email text,
    status_reason text,
    connected_at text not null,
    updated_at text not null
);
create table if not exists tokens (
    user_id integer primary key,
    ciphertext blob not null,
    updated_at text not null
);
"""


class RefreshLockTimeout(TransientError):
    """Another worker held the user's refresh lock for longer than the timeout."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SqliteTokenStore(TokenStore):
    """Local token store; ciphertext only ever reaches the file."""

    def __init__(self, path: Path, encryption_key: SecretStr) -> None:
        self.path = path
        self._cipher = fernet_from_secret(encryption_key)
        self.lock_dir = path.parent / "locks"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, *, encryption_key: SecretStr
    ) -> SqliteTokenStore:
        """``<data_dir>/tokens.sqlite3`` with the key from the SecretStore."""
        return cls(settings.token_db_path, encryption_key)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0)
        conn.execute("pragma journal_mode=wal")
        return conn

    async def save_tokens(self, user_id: int, tokens: StoredTokens) -> None:
        blob = encrypt_tokens(self._cipher, tokens)

        def _save() -> None:
            now = _now()
            with contextlib.closing(self._connect()) as conn, conn:
                conn.execute(
                    "insert into users (user_id, status, connected_at, updated_at) "
                    "values (?, 'active', ?, ?) on conflict (user_id) do nothing",
                    (user_id, now, now),
                )
                conn.execute(
                    "insert into tokens (user_id, ciphertext, updated_at) values (?, ?, ?) "
                    "on conflict (user_id) do update set ciphertext = excluded.ciphertext, "
                    "updated_at = excluded.updated_at",
                    (user_id, blob, now),
                )

        await asyncio.to_thread(_save)

    async def load_tokens(self, user_id: int) -> StoredTokens | None:
        def _load() -> bytes | None:
            with contextlib.closing(self._connect()) as conn:
                row = conn.execute(
                    "select ciphertext from tokens where user_id = ?", (user_id,)
                ).fetchone()
            return None if row is None else bytes(row[0])

        blob = await asyncio.to_thread(_load)
        return None if blob is None else decrypt_tokens(self._cipher, blob)

    def refresh_lock(
        self, user_id: int, timeout_s: float = 30.0
    ) -> AbstractAsyncContextManager[None]:
        return self._flock(self.lock_dir / f"refresh-{user_id}.lock", timeout_s)

    @contextlib.asynccontextmanager
    async def _flock(self, path: Path, timeout_s: float) -> AsyncIterator[None]:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() > deadline:
                        raise RefreshLockTimeout(f"refresh lock {path.name} busy") from exc
                    await asyncio.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def upsert_user(
        self,
        user_id: int,
        *,
        status: UserStatus,
        email: str | None = None,
        status_reason: str | None = None,
    ) -> UserRecord:
        def _upsert() -> None:
            now = _now()
            with contextlib.closing(self._connect()) as conn, conn:
                conn.execute(
                    "insert into users (user_id, status, email, status_reason, connected_at, "
                    "updated_at) values (?, ?, ?, ?, ?, ?) on conflict (user_id) do update set "
                    "status = excluded.status, email = coalesce(excluded.email, users.email), "
                    "status_reason = excluded.status_reason, updated_at = excluded.updated_at, "
                    "connected_at = case when users.status != 'active' and excluded.status = "
                    "'active' then excluded.connected_at else users.connected_at end",
                    (user_id, status, email, status_reason, now, now),
                )

        await asyncio.to_thread(_upsert)
        user = await self.get_user(user_id)
        assert user is not None
        return user

    async def get_user(self, user_id: int) -> UserRecord | None:
        def _get() -> tuple[object, ...] | None:
            with contextlib.closing(self._connect()) as conn:
                row: tuple[object, ...] | None = conn.execute(
                    "select user_id, status, connected_at, updated_at, email, status_reason "
                    "from users where user_id = ?",
                    (user_id,),
                ).fetchone()
            return row

        row = await asyncio.to_thread(_get)
        return None if row is None else _user(row)

    async def list_users(self) -> AsyncIterator[UserRecord]:
        def _all() -> list[tuple[object, ...]]:
            with contextlib.closing(self._connect()) as conn:
                return conn.execute(
                    "select user_id, status, connected_at, updated_at, email, status_reason "
                    "from users order by user_id"
                ).fetchall()

        for row in await asyncio.to_thread(_all):
            yield _user(row)

    async def delete_tokens(self, user_id: int) -> None:
        def _delete() -> None:
            with contextlib.closing(self._connect()) as conn, conn:
                conn.execute("delete from tokens where user_id = ?", (user_id,))

        await asyncio.to_thread(_delete)

    async def delete_user(self, user_id: int) -> None:
        def _delete() -> None:
            with contextlib.closing(self._connect()) as conn, conn:
                conn.execute("delete from tokens where user_id = ?", (user_id,))
                conn.execute("delete from users where user_id = ?", (user_id,))

        await asyncio.to_thread(_delete)

    def raw_ciphertext(self, user_id: int) -> bytes | None:
        """The stored bytes, for tests and audits proving nothing is kept in plain text."""
        with contextlib.closing(self._connect()) as conn:
            row = conn.execute("select ciphertext from tokens where user_id = ?", (user_id,))
            found = row.fetchone()
        return None if found is None else bytes(found[0])


def _user(row: tuple[object, ...]) -> UserRecord:
    return UserRecord(
        user_id=int(str(row[0])),
        status=str(row[1]),  # type: ignore[arg-type]
        connected_at=datetime.fromisoformat(str(row[2])),
        updated_at=datetime.fromisoformat(str(row[3])),
        email=None if row[4] is None else str(row[4]),
        status_reason=None if row[5] is None else str(row[5]),
    )
