"""A cross-process, in-process-reentrant lock on ``<duckdb file>.lock`` (fcntl ``flock``).

DuckDB lets exactly one process open a file read-write. Loader, transformer (dbt), scorer and
dashboard all need the warehouse, so each holds this lock only while a short-lived connection
is open. ``flock`` locks belong to an open file description, so they vanish when a process dies
(no stale lock files to clean up) and work between unrelated processes.

Within one process the lock is reentrant: ``with wh.exclusive(): wh.query(...)`` must not
deadlock against itself. Threads of one process queue on an ``RLock`` first, so only one thread
per process ever waits on the file lock.

Fairness: waiters poll with a short, jittered back-off (``flock`` has no queue and no
timeout). A releasing process that immediately wants the lock again yields briefly first, so a
tight loader loop cannot starve dbt.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.adapters.warehouse.bronze import WarehouseLockTimeout

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 0.02
_YIELD_AFTER_RELEASE_S = 0.005


class InterProcessLock:
    """Reentrant (per process) exclusive lock backed by ``flock`` on one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._released_at = 0.0

    @property
    def held(self) -> bool:
        """Whether this process currently holds the file lock."""
        return self._depth > 0

    @contextmanager
    def hold(self, timeout_s: float) -> Iterator[None]:
        """Hold the lock for the block.

        Raises:
            WarehouseLockTimeout: not acquired within ``timeout_s`` (a TransientError: the
                consumer abandons the batch and the bus redelivers it).
        """
        deadline = time.monotonic() + timeout_s
        if not self._thread_lock.acquire(timeout=max(timeout_s, 0.0)):
            raise WarehouseLockTimeout(self.path, timeout_s)
        try:
            if self._depth == 0:
                self._acquire_file(deadline, timeout_s)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release_file()
        finally:
            self._thread_lock.release()

    def _acquire_file(self, deadline: float, timeout_s: float) -> None:
        if time.monotonic() - self._released_at < _YIELD_AFTER_RELEASE_S:
            time.sleep(_YIELD_AFTER_RELEASE_S)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        backoff = 0.001
        waited = False
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise WarehouseLockTimeout(self.path, timeout_s) from None
                    waited = True
                    time.sleep(backoff * (0.5 + random.random()))  # noqa: S311 - jitter only
                    backoff = min(backoff * 2, _MAX_BACKOFF_S)
        except BaseException:
            os.close(fd)
            raise
        if waited:
            log.debug("warehouse lock acquired after waiting", extra={"lock": str(self.path)})
        self._fd = fd

    def _release_file(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            self._released_at = time.monotonic()


_REGISTRY: dict[Path, InterProcessLock] = {}
_REGISTRY_LOCK = threading.Lock()


def lock_for(path: Path) -> InterProcessLock:
    """The one lock object of this process for ``path`` (reentrancy needs a single owner)."""
    key = path.resolve()
    with _REGISTRY_LOCK:
        lock = _REGISTRY.get(key)
        if lock is None:
            lock = InterProcessLock(key)
            _REGISTRY[key] = lock
        return lock
