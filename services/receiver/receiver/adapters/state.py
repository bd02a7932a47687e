"""Webhook dedupe records and pending OAuth states in SQLite (local profile).

Both must be visible to every receiver process: a replayed webhook may hit another worker, and
the OAuth callback may land on a different one than the login. In Azure the same two tables are
Table Storage entities (``PartitionKey`` = kind, ``RowKey`` = trace id / state) with the same
expiry rules.
"""

from __future__ import annotations

import abc
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

from shared.settings import PlatformSettings


class ReceiverState(abc.ABC):
    """Dedupe of webhook deliveries and single-use OAuth states."""

    @abc.abstractmethod
    def claim_webhook(self, trace_id: str, now_s: float) -> bool:
        """True when this trace id is new (and is now recorded); False for a replay."""

    @abc.abstractmethod
    def release_webhook(self, trace_id: str) -> None:
        """Forget a claim whose enqueue failed, so WHOOP's retry is processed."""

    @abc.abstractmethod
    def purge_webhooks(self, older_than_s: float) -> int:
        """Drop dedupe records older than the epoch time given."""

    @abc.abstractmethod
    def put_state(self, state: str, session: str, expires_s: float) -> None:
        """Remember an OAuth state bound to a browser session."""

    @abc.abstractmethod
    def take_state(self, state: str, session: str, now_s: float) -> bool:
        """Consume a state (single use): True when it exists, matches and has not expired."""


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class SqliteReceiverState(ReceiverState):
    """One connection per thread; statements are tiny, so they run inline on the event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        conn.executescript(
            """
            create table if not exists rx_webhook_dedupe (
                trace_id text primary key, received_at real not null);
            create index if not exists rx_webhook_dedupe_at on rx_webhook_dedupe (received_at);
            create table if not exists rx_oauth_state (
                state_hash text primary key, session_hash text not null, expires_at real not null);
            """
        )

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> SqliteReceiverState:
        """``<data_dir>/receiver.sqlite3`` (its own file: hot path, no contention with jobs)."""
        return cls(settings.data_dir / "receiver.sqlite3")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            conn.execute("pragma journal_mode=wal")
            conn.execute("pragma synchronous=normal")
            self._local.conn = conn
        return conn

    def claim_webhook(self, trace_id: str, now_s: float) -> bool:
        cur = self._conn().execute(
            "insert into rx_webhook_dedupe (trace_id, received_at) values (?, ?) "
            "on conflict (trace_id) do nothing",
            (trace_id, now_s),
        )
        return cur.rowcount == 1

    def release_webhook(self, trace_id: str) -> None:
        self._conn().execute("delete from rx_webhook_dedupe where trace_id = ?", (trace_id,))

    def purge_webhooks(self, older_than_s: float) -> int:
        cur = self._conn().execute(
            "delete from rx_webhook_dedupe where received_at < ?", (older_than_s,)
        )
        return cur.rowcount

    def put_state(self, state: str, session: str, expires_s: float) -> None:
        conn = self._conn()
        conn.execute("delete from rx_oauth_state where expires_at < ?", (time.time(),))
        conn.execute(
            "insert into rx_oauth_state (state_hash, session_hash, expires_at) values (?, ?, ?)",
            (_hash(state), _hash(session), expires_s),
        )

    def take_state(self, state: str, session: str, now_s: float) -> bool:
        row = (
            self._conn()
            .execute(
                "delete from rx_oauth_state where state_hash = ? "
                "returning session_hash, expires_at",
                (_hash(state),),
            )
            .fetchone()
        )
        if row is None:
            return False
        return bool(row[0] == _hash(session) and row[1] >= now_s)

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
