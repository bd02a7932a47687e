"""``LocalBus``: Azure Service Bus semantics on one SQLite file, shared by every local process.

Why SQLite: the local profile runs each service as its own OS process with zero infrastructure,
and SQLite in WAL mode gives durable, cross-process, transactional queues for free. The
semantics mirror Service Bus so ``ServiceBusBus`` is a drop-in replacement:

* one row per (message, subscription): ``publish`` fans a message out to every subscription of
  its topic in one transaction;
* peek-lock: ``receive`` stamps a fresh ``lock_token`` and ``locked_until`` and pushes
  ``visible_at`` to the lock expiry, so an unsettled message reappears by itself (no sweeper);
* settlement matches on ``lock_token`` *and* an unexpired lock, so a late settle raises
  :class:`~shared.ports.bus.LockLost` exactly like ``MessageLockLostError``;
* a message handed out ``max_delivery_count`` times and not completed is dead-lettered with
  reason ``MaxDeliveryCountExceeded``.

Concurrency: every write is a short ``BEGIN IMMEDIATE`` transaction (writer lock taken up front,
so two receivers never both claim a row) with ``busy_timeout`` for contention. All SQLite work
of one instance runs on one dedicated worker thread owning one connection, so the event loop
never blocks and the connection is never shared between threads. Idle receivers poll with a
read-only probe (no write lock) every ``poll_interval_s``; a publish in the same process wakes
them at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from shared.contracts import SUBSCRIPTIONS
from shared.errors import TerminalError, TransientError
from shared.ports.bus import DeadLetter, LockLost, MessageBus, OutgoingMessage, ReceivedMessage
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_DELIVERY_REASON = "MaxDeliveryCountExceeded"
MAX_DELIVERY_DESCRIPTION = "Message could not be consumed after {n} delivery attempts."

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    topic TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (topic, name)
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    subscription TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body BLOB NOT NULL,
    properties TEXT NOT NULL,
    subject TEXT,
    correlation_id TEXT,
    session_id TEXT,
    content_type TEXT,
    enqueued_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    lock_token TEXT,
    locked_until REAL,
    dead INTEGER NOT NULL DEFAULT 0,
    dead_letter_reason TEXT,
    dead_letter_description TEXT,
    dead_lettered_at REAL
);
CREATE INDEX IF NOT EXISTS ix_messages_ready
    ON messages (topic, subscription, dead, visible_at, seq);
"""

_COLUMNS = (
    "seq, topic, subscription, message_id, body, properties, subject, correlation_id, "
    "session_id, content_type, enqueued_at, visible_at, delivery_count, lock_token, "
    "locked_until, dead_letter_reason, dead_letter_description"
)


class TopicNotFound(TerminalError):
    """Publishing to a topic no subscription is declared on (Service Bus: entity not found)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        super().__init__(
            f"topic {topic!r} does not exist on the LocalBus; declare it in "
            "shared.contracts.SUBSCRIPTIONS (or pass it to ensure_topology)"
        )


class BusBusy(TransientError):
    """SQLite stayed locked by another process beyond ``busy_timeout``; retry later."""


@dataclass(frozen=True)
class LocalLock:
    """The native settlement handle kept in :attr:`ReceivedMessage.raw`."""

    seq: int
    lock_token: str


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class LocalBus(MessageBus):
    """SQLite-backed topics and subscriptions with peek-lock (see module docstring).

    Args:
        path: the SQLite file every local process shares.
        lock_duration_s: peek-lock length (Service Bus: the subscription's ``LockDuration``).
        max_delivery_count: deliveries before ``MaxDeliveryCountExceeded`` dead-lettering.
        poll_interval_s: how often an idle ``receive`` probes for cross-process arrivals.
        busy_timeout_s: how long a write waits for another process's transaction.
        subscriptions: topology to declare on first use; defaults to the contract's.
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_duration_s: float = 30.0,
        max_delivery_count: int = 10,
        poll_interval_s: float = 0.05,
        busy_timeout_s: float = 10.0,
        subscriptions: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_duration_s = lock_duration_s
        self.max_delivery_count = max_delivery_count
        self.poll_interval_s = poll_interval_s
        self.busy_timeout_s = busy_timeout_s
        declared = SUBSCRIPTIONS if subscriptions is None else subscriptions
        self._declared = [(str(t), str(n)) for t, n in declared]
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        # asyncio.Event binds to one loop; keep one per loop so CLI re-runs do not trip on it.
        self._wakeups: dict[tuple[int, str, str], asyncio.Event] = {}
        self._closed = False

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> LocalBus:
        """Build the bus every local process shares (``<data_dir>/bus.sqlite3``)."""
        return cls(
            settings.bus_path,
            lock_duration_s=settings.bus_lock_duration_s,
            max_delivery_count=settings.bus_max_delivery_count,
            poll_interval_s=settings.bus_poll_interval_s,
        )

    # ------------------------------------------------------------------ plumbing
    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("LocalBus is closed")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localbus")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        try:
            if conn is None:
                conn = self._conn = self._connect()
            return fn(conn)
        except sqlite3.OperationalError as exc:
            if conn is not None and conn.in_transaction:
                conn.rollback()
            if "locked" in str(exc) or "busy" in str(exc):
                raise BusBusy(f"LocalBus {self.path} is busy: {exc}") from exc
            raise
        except BaseException:
            if conn is not None and conn.in_transaction:
                conn.rollback()
            raise

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL: a commit survives a process crash; only an OS crash may lose the
            # last transactions, acceptable for a laptop bus and 10x cheaper than FULL.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR IGNORE INTO subscriptions (topic, name) VALUES (?, ?)", self._declared
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        return conn

    def _wakeup(self, topic: str, subscription: str) -> asyncio.Event:
        key = (id(asyncio.get_running_loop()), topic, subscription)
        event = self._wakeups.get(key)
        if event is None:
            event = self._wakeups[key] = asyncio.Event()
        return event

    def _notify(self, topic: str, subscriptions: Iterable[str]) -> None:
        """Wake this process's idle receivers at once (other processes poll)."""
        loop_id = id(asyncio.get_running_loop())
        for sub in subscriptions:
            event = self._wakeups.get((loop_id, topic, sub))
            if event is not None:
                event.set()

    # ------------------------------------------------------------------ topology
    async def ensure_topology(self, subscriptions: Iterable[tuple[str, str]] | None = None) -> None:
        """Declare the contract's subscriptions, plus ``subscriptions`` (tests, tools).

        Creating a subscription later does not backfill it: like Service Bus, it only sees
        messages published after it exists.
        """
        extra = [(str(t), str(n)) for t, n in (subscriptions or ())]
        rows = self._declared + extra

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR IGNORE INTO subscriptions (topic, name) VALUES (?, ?)", rows
            )
            conn.execute("COMMIT")

        await self._run(work)

    async def subscriptions(self) -> list[tuple[str, str]]:
        """Every declared ``(topic, subscription)``, sorted (for ``wdp dlq``)."""

        def work(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute("SELECT topic, name FROM subscriptions ORDER BY topic, name")
            return [(str(t), str(n)) for t, n in rows]

        return await self._run(work)

    # ------------------------------------------------------------------ publish
    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        """Fan every message out to each subscription of ``topic`` in one transaction.

        Raises:
            TopicNotFound: no subscription is declared on ``topic``.
            BusBusy: another process held the database beyond the busy timeout.
        """
        if not messages:
            return
        now = time.time()
        prepared = [
            (
                m.message_id or uuid.uuid4().hex,
                bytes(m.body),
                json.dumps(dict(m.application_properties), default=str),
                m.subject,
                m.correlation_id,
                m.session_id,
                m.content_type,
                now,
                m.scheduled_enqueue_time.timestamp() if m.scheduled_enqueue_time else now,
            )
            for m in messages
        ]

        def work(conn: sqlite3.Connection) -> list[str]:
            conn.execute("BEGIN IMMEDIATE")
            subs = [
                r[0]
                for r in conn.execute("SELECT name FROM subscriptions WHERE topic = ?", (topic,))
            ]
            if not subs:
                conn.execute("ROLLBACK")
                raise TopicNotFound(topic)
            conn.executemany(
                "INSERT INTO messages (topic, subscription, message_id, body, properties, "
                "subject, correlation_id, session_id, content_type, enqueued_at, visible_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(topic, sub, *row) for row in prepared for sub in subs],
            )
            conn.execute("COMMIT")
            return subs

        self._notify(topic, await self._run(work))

    # ------------------------------------------------------------------ receive
    async def receive(
        self,
        topic: str,
        subscription: str,
        *,
        max_messages: int = 1,
        max_wait_s: float = 5.0,
    ) -> list[ReceivedMessage]:
        """Peek-lock up to ``max_messages``; returns as soon as at least one is available."""
        deadline = time.monotonic() + max(0.0, max_wait_s)
        wakeup = self._wakeup(topic, subscription)
        while True:
            wakeup.clear()
            claimed, next_visible = await self._run(
                lambda conn: self._claim(conn, topic, subscription, max_messages)
            )
            if claimed:
                return claimed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            sleep_s = min(self.poll_interval_s, remaining)
            if next_visible is not None:
                sleep_s = min(sleep_s, max(0.0, next_visible - time.time()))
            try:
                await asyncio.wait_for(wakeup.wait(), timeout=sleep_s)
            except TimeoutError:
                pass

    def _claim(
        self, conn: sqlite3.Connection, topic: str, subscription: str, max_messages: int
    ) -> tuple[list[ReceivedMessage], float | None]:
        now = time.time()
        # Read-only probe first: idle pollers must not take the writer lock 20 times a second.
        probe = conn.execute(
            "SELECT MIN(visible_at) FROM messages "
            "WHERE topic = ? AND subscription = ? AND dead = 0",
            (topic, subscription),
        ).fetchone()
        if probe is None or probe[0] is None:
            return [], None
        if probe[0] > now:
            return [], float(probe[0])
        claimed: list[ReceivedMessage] = []
        conn.execute("BEGIN IMMEDIATE")
        now = time.time()
        while len(claimed) < max_messages:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE topic = ? AND subscription = ? "
                "AND dead = 0 AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
                (topic, subscription, now, max_messages - len(claimed)),
            ).fetchall()
            if not rows:
                break
            for row in rows:
                seq, delivery_count = int(row[0]), int(row[12])
                if delivery_count >= self.max_delivery_count:
                    self._dead_letter_row(
                        conn,
                        seq,
                        MAX_DELIVERY_REASON,
                        MAX_DELIVERY_DESCRIPTION.format(n=delivery_count),
                        now,
                    )
                    continue
                token = uuid.uuid4().hex
                until = now + self.lock_duration_s
                conn.execute(
                    "UPDATE messages SET delivery_count = delivery_count + 1, lock_token = ?, "
                    "locked_until = ?, visible_at = ? WHERE seq = ?",
                    (token, until, until, seq),
                )
                claimed.append(self._to_received(row, delivery_count + 1, token, until))
        conn.execute("COMMIT")
        return claimed, None

    @staticmethod
    def _to_received(
        row: Sequence[Any], delivery_count: int, token: str, until: float
    ) -> ReceivedMessage:
        return ReceivedMessage(
            topic=str(row[1]),
            subscription=str(row[2]),
            message_id=str(row[3]),
            body=bytes(row[4]),
            application_properties=json.loads(row[5]),
            delivery_count=delivery_count,
            enqueued_time=_ts(float(row[10])),
            locked_until=_ts(until),
            subject=row[6],
            correlation_id=row[7],
            session_id=row[8],
            content_type=row[9],
            raw=LocalLock(int(row[0]), token),
        )

    @staticmethod
    def _dead_letter_row(
        conn: sqlite3.Connection, seq: int, reason: str, description: str, now: float
    ) -> None:
        conn.execute(
            "UPDATE messages SET dead = 1, dead_letter_reason = ?, dead_letter_description = ?, "
            "dead_lettered_at = ?, lock_token = NULL, locked_until = NULL WHERE seq = ?",
            (reason, description, now, seq),
        )

    # ------------------------------------------------------------------ settlement
    @staticmethod
    def _lock(message: ReceivedMessage) -> LocalLock:
        if not isinstance(message.raw, LocalLock):
            raise TypeError("message was not received from a LocalBus")
        return message.raw

    async def _settle(
        self,
        message: ReceivedMessage,
        action: Callable[[sqlite3.Connection, LocalLock, int, float], None],
    ) -> None:
        lock = self._lock(message)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            now = time.time()
            row = conn.execute(
                "SELECT delivery_count FROM messages WHERE seq = ? AND lock_token = ? "
                "AND locked_until > ? AND dead = 0",
                (lock.seq, lock.lock_token, now),
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                raise LockLost(
                    f"lock on message {message.message_id!r} ({message.topic}/"
                    f"{message.subscription}) expired or was settled already"
                )
            action(conn, lock, int(row[0]), now)
            conn.execute("COMMIT")

        await self._run(work)

    async def complete(self, message: ReceivedMessage) -> None:
        """Delete the message from its subscription. Raises :class:`LockLost` if late."""

        def action(conn: sqlite3.Connection, lock: LocalLock, _count: int, _now: float) -> None:
            conn.execute("DELETE FROM messages WHERE seq = ?", (lock.seq,))

        await self._settle(message, action)

    async def abandon(self, message: ReceivedMessage) -> None:
        """Release the lock now; dead-letters instead when deliveries are used up."""
        max_count = self.max_delivery_count

        def action(conn: sqlite3.Connection, lock: LocalLock, count: int, now: float) -> None:
            if count >= max_count:
                self._dead_letter_row(
                    conn,
                    lock.seq,
                    MAX_DELIVERY_REASON,
                    MAX_DELIVERY_DESCRIPTION.format(n=count),
                    now,
                )
                return
            conn.execute(
                "UPDATE messages SET lock_token = NULL, locked_until = NULL, visible_at = ? "
                "WHERE seq = ?",
                (now, lock.seq),
            )

        await self._settle(message, action)
        self._notify(message.topic, [message.subscription])

    async def dead_letter(
        self, message: ReceivedMessage, *, reason: str, description: str = ""
    ) -> None:
        """Move the message to its subscription's dead-letter queue with ``reason``."""

        def action(conn: sqlite3.Connection, lock: LocalLock, _count: int, now: float) -> None:
            self._dead_letter_row(conn, lock.seq, reason, description, now)

        await self._settle(message, action)
        message.dead_letter_reason = reason
        message.dead_letter_description = description

    async def renew_lock(self, message: ReceivedMessage) -> datetime:
        """Extend the lock by ``lock_duration_s`` from now. Raises :class:`LockLost` if late."""
        duration = self.lock_duration_s
        new_until: list[float] = []

        def action(conn: sqlite3.Connection, lock: LocalLock, _count: int, now: float) -> None:
            until = now + duration
            conn.execute(
                "UPDATE messages SET locked_until = ?, visible_at = ? WHERE seq = ?",
                (until, until, lock.seq),
            )
            new_until.append(until)

        await self._settle(message, action)
        message.locked_until = _ts(new_until[0])
        return message.locked_until

    # ------------------------------------------------------------------ dead letters
    def _sweep_expired(self, conn: sqlite3.Connection, topic: str, subscription: str) -> None:
        """Dead-letter messages whose last allowed lock expired (Service Bus does it eagerly)."""
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE messages SET dead = 1, dead_letter_reason = ?, "
            "dead_letter_description = 'Message could not be consumed after ' || delivery_count "
            "|| ' delivery attempts.', dead_lettered_at = ?, lock_token = NULL, "
            "locked_until = NULL WHERE topic = ? AND subscription = ? AND dead = 0 "
            "AND delivery_count >= ? AND visible_at <= ?",
            (MAX_DELIVERY_REASON, now, topic, subscription, self.max_delivery_count, now),
        )
        conn.execute("COMMIT")

    async def list_dead_letters(
        self, topic: str, subscription: str, *, max_messages: int = 100
    ) -> list[DeadLetter]:
        """Browse the dead-letter queue, oldest first, without changing it."""

        def work(conn: sqlite3.Connection) -> list[DeadLetter]:
            self._sweep_expired(conn, topic, subscription)
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE topic = ? AND subscription = ? "
                "AND dead = 1 ORDER BY dead_lettered_at, seq LIMIT ?",
                (topic, subscription, max_messages),
            ).fetchall()
            return [
                DeadLetter(
                    topic=str(r[1]),
                    subscription=str(r[2]),
                    message_id=str(r[3]),
                    reason=r[15],
                    description=r[16],
                    delivery_count=int(r[12]),
                    enqueued_time=_ts(float(r[10])),
                    application_properties=json.loads(r[5]),
                    body=bytes(r[4]),
                    sequence_number=int(r[0]),
                )
                for r in rows
            ]

        return await self._run(work)

    async def replay_dead_letters(
        self, topic: str, subscription: str, *, message_ids: Sequence[str] | None = None
    ) -> int:
        """Re-publish dead letters to the topic (same id, body, properties) and drop them.

        Both happen in one transaction, so a crash never loses or doubles a replay.
        """
        wanted = None if message_ids is None else set(message_ids)

        def work(conn: sqlite3.Connection) -> tuple[int, list[str]]:
            self._sweep_expired(conn, topic, subscription)
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE topic = ? AND subscription = ? "
                "AND dead = 1 ORDER BY seq",
                (topic, subscription),
            ).fetchall()
            rows = [r for r in rows if wanted is None or r[3] in wanted]
            subs = [
                r[0]
                for r in conn.execute("SELECT name FROM subscriptions WHERE topic = ?", (topic,))
            ]
            now = time.time()
            conn.executemany(
                "INSERT INTO messages (topic, subscription, message_id, body, properties, "
                "subject, correlation_id, session_id, content_type, enqueued_at, visible_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (topic, sub, r[3], r[4], r[5], r[6], r[7], r[8], r[9], now, now)
                    for r in rows
                    for sub in subs
                ],
            )
            conn.executemany("DELETE FROM messages WHERE seq = ?", [(r[0],) for r in rows])
            conn.execute("COMMIT")
            return len(rows), subs

        count, subs = await self._run(work)
        if count:
            log.info(
                "replayed dead letters",
                extra={"topic": topic, "subscription": subscription, "count": count},
            )
            self._notify(topic, subs)
        return count

    # ------------------------------------------------------------------ diagnostics
    async def active_count(self, topic: str, subscription: str) -> int:
        """Messages waiting or locked on a subscription (not dead-lettered)."""

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COUNT(*) FROM messages WHERE topic = ? AND subscription = ? AND dead = 0",
                (topic, subscription),
            ).fetchone()
            return int(row[0])

        return await self._run(work)

    async def close(self) -> None:
        """Close the connection and stop the worker thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:

            def shut() -> None:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

            await asyncio.get_running_loop().run_in_executor(executor, shut)
            executor.shutdown(wait=True)
