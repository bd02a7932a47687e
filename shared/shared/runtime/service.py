"""Run a bus-driven service: consumers, periodic jobs, heartbeat file, graceful shutdown.

Health: the runner rewrites ``<data_dir>/health/<service>.json`` every few seconds; a
container probe (``wdp health <service>`` or ``python -m shared.runtime.health``) checks its
age. SIGTERM/SIGINT stop the loops after the in-flight message settles.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from shared.runtime.consumer import Consumer

log = logging.getLogger(__name__)

HEARTBEAT_METRIC = "wdp.service.heartbeat"
# service name -> wall time of its last heartbeat, for every runner alive in this process.
_live_heartbeats: dict[str, float] = {}


def heartbeat_observations(
    options: CallbackOptions | None = None, *, max_age_s: float = 15.0
) -> list[Observation]:
    """One observation (value 1) per service whose heartbeat is fresh: the metric export of the
    heartbeat file, so Azure alerts on ``wdp.service.heartbeat`` going silent (AppMetrics)."""
    del options
    now = time.time()
    return [
        Observation(1, {"service": name})
        for name, ts in sorted(_live_heartbeats.items())
        if now - ts <= max_age_s
    ]


metrics.get_meter("wdp.service").create_observable_gauge(
    HEARTBEAT_METRIC,
    callbacks=[heartbeat_observations],
    unit="{heartbeat}",
    description="1 per live service process at each metric export (absent = no heartbeat)",
)

PeriodicJob = tuple[float, Callable[[], Awaitable[object]]]


class ServiceRunner:
    """Owns the event loop's stop signal and the tasks of one service process."""

    def __init__(
        self,
        name: str,
        consumers: Sequence[Consumer],
        *,
        health_dir: Path,
        periodic: Sequence[PeriodicJob] = (),
        heartbeat_s: float = 2.0,
    ) -> None:
        self.name = name
        self.consumers = list(consumers)
        self.periodic = list(periodic)
        self.health_file = health_dir / f"{name}.json"
        self.heartbeat_s = heartbeat_s
        self.stop = asyncio.Event()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT → stop after the in-flight work settles."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)

    async def run(self, start: Callable[[], Awaitable[object]] | None = None) -> None:
        """Run until stopped; writes the heartbeat and removes it on a clean exit.

        ``start`` (a warm-up) runs beside the loops; if it raises, the service stops and the
        error propagates (the supervisor or Container Apps restarts the process).

        Raises:
            Exception: whatever ``start`` raised.
        """
        self.health_file.parent.mkdir(parents=True, exist_ok=True)
        tasks = [asyncio.create_task(self._heartbeat())]
        tasks += [
            asyncio.create_task(c.run(self.stop), name=f"consume:{c.topic}") for c in self.consumers
        ]
        tasks += [asyncio.create_task(self._every(p, job)) for p, job in self.periodic]
        warm_up = None if start is None else asyncio.create_task(self._warm(start))
        log.info("service started", extra={"service": self.name, "pid": os.getpid()})
        try:
            await self.stop.wait()
        finally:
            self.stop.set()
            done, pending = await asyncio.wait(tasks, timeout=30)
            for task in pending:
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.error("task failed", exc_info=task.exception())
            if warm_up is not None and not warm_up.done():
                warm_up.cancel()
            self.health_file.unlink(missing_ok=True)
            _live_heartbeats.pop(self.name, None)
            log.info("service stopped", extra={"service": self.name})
        if warm_up is not None and warm_up.done() and not warm_up.cancelled():
            failure = warm_up.exception()
            if failure is not None:
                raise failure

    async def _warm(self, start: Callable[[], Awaitable[object]]) -> None:
        started = time.monotonic()
        try:
            await start()
        except Exception:
            log.exception("warm-up failed; stopping", extra={"service": self.name})
            self.stop.set()
            raise
        log.info(
            "warm-up finished",
            extra={"service": self.name, "warm_s": round(time.monotonic() - started, 3)},
        )

    async def _every(self, period_s: float, job: Callable[[], Awaitable[object]]) -> None:
        while not self.stop.is_set():
            try:
                await job()
            except Exception:
                log.exception("periodic job failed", extra={"service": self.name})
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=period_s)
            except TimeoutError:
                pass

    async def _heartbeat(self) -> None:
        while not self.stop.is_set():
            now = time.time()
            state = {
                "service": self.name,
                "pid": os.getpid(),
                "ts": now,
                "consumers": {
                    c.topic.value: {
                        "processed": c.processed,
                        "abandoned": c.abandoned,
                        "dead_lettered": c.dead_lettered,
                    }
                    for c in self.consumers
                },
            }
            tmp = self.health_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(self.health_file)
            _live_heartbeats[self.name] = now
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=self.heartbeat_s)
            except TimeoutError:
                pass


def is_healthy(health_dir: Path, name: str, max_age_s: float = 15.0) -> bool:
    """True when the service's heartbeat is fresh (used by probes and ``wdp up``)."""
    path = health_dir / f"{name}.json"
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return bool(time.time() - float(state["ts"]) <= max_age_s)
