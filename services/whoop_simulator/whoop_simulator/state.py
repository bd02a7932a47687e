"""The simulator's in-memory world: users, simulated clock, faults and the webhook feed.

Records never change except through their timelines: advancing the clock makes later
versions visible (new sleeps, PENDING_SCORE → SCORED, late re-scores, deletes) and each such
change fires its webhook once. Admin re-scores and deletes add to the same timelines.
"""

from __future__ import annotations

import bisect
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from whoop_simulator.config import SimulatorConfig
from whoop_simulator.generator import (
    HOUR,
    MINUTE,
    RESOURCES,
    Resource,
    SimUser,
    Timeline,
    Version,
    generate_user,
)
from whoop_simulator.oauth import OAuthServer
from whoop_simulator.ratelimit import RateLimiter
from whoop_simulator.timeutil import iso_ms, to_ms
from whoop_simulator.webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)


class Faults(BaseModel):
    """Fault injection knobs (admin ``/admin/faults``); rates are probabilities per request."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0, le=1, description="answer 5xx")
    error_status: int = Field(default=503, ge=500, le=599)
    latency_ms: int = Field(default=0, ge=0, description="added to every data-API call")
    timeout_rate: float = Field(default=0.0, ge=0, le=1, description="hang then 504")
    timeout_s: float = Field(default=30.0, ge=0, description="how long a hang lasts")
    truncate_rate: float = Field(default=0.0, ge=0, le=1, description="cut the JSON body")
    webhook_drop_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    corrupt_rate: float = Field(default=0.0, ge=0, le=1, description="out-of-range records")


class SimClock:
    """Simulated time: fixed in ``static`` mode, ``speed``× real time in ``live`` mode."""

    def __init__(self, start_ms: int, live: bool, speed: float) -> None:
        self._start_ms = start_ms
        self._live = live
        self._speed = speed
        self._real0 = time.monotonic()
        self._advanced_ms = 0

    def now_ms(self) -> int:
        """Current simulated instant (epoch ms)."""
        elapsed = (time.monotonic() - self._real0) * self._speed if self._live else 0.0
        return self._start_ms + int(elapsed * 1000) + self._advanced_ms

    def advance(self, ms: int) -> None:
        """Jump forward (admin ``/admin/time/advance``)."""
        self._advanced_ms += max(0, ms)


@dataclass(frozen=True, slots=True)
class _Feed:
    at_ms: int
    event_type: str
    timeline: Timeline


class SimState:
    """Everything a request handler touches; built once by ``create_app``."""

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        wall_clock: Callable[[], float] = time.time,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        now = config.resolved_now()
        self.clock = SimClock(to_ms(now), config.mode == "live", config.speed)
        self.users: dict[int, SimUser] = {}
        self.index: dict[int, dict[Resource, dict[str, Timeline]]] = {}
        self.v1_map: dict[int, str] = {}
        feed: list[_Feed] = []
        for i in range(config.n_users):
            user = generate_user(
                config.seed,
                i,
                config.start_date(),
                config.total_days(),
                now=now,
                legacy_ids=config.legacy_ids,
            )
            self.users[user.user_id] = user
            self.index[user.user_id] = {
                r: {tl.key: tl for tl in user.timelines[r]} for r in RESOURCES
            }
            for res in ("sleep", "workout"):
                for tl in user.timelines[res]:  # type: ignore[index]
                    v1 = tl.versions[0].record.get("v1_id")
                    if v1 is not None:
                        self.v1_map[int(v1)] = tl.key
            for res in ("sleep", "recovery", "workout"):
                for tl in user.timelines[res]:  # type: ignore[index]
                    for v in tl.versions:
                        feed.append(_Feed(v.visible_ms, f"{res}.updated", tl))
                    if tl.deleted_ms is not None:
                        feed.append(_Feed(tl.deleted_ms, f"{res}.deleted", tl))
        feed.sort(key=lambda f: f.at_ms)
        self._feed = feed
        self._feed_times = [f.at_ms for f in feed]
        self._feed_pos = bisect.bisect_right(self._feed_times, self.clock.now_ms())
        self.oauth = OAuthServer(
            config.client_id,
            config.client_secret.get_secret_value(),
            token_ttl_s=config.token_ttl_s,
            code_ttl_s=config.code_ttl_s,
            clock=wall_clock,
        )
        self.limiter = RateLimiter(
            config.rate_limit_per_minute,
            config.rate_limit_per_day,
            config.rate_limit_window_s,
            config.rate_limit_day_window_s,
            clock=wall_clock,
        )
        self.faults = Faults()
        self.rng = random.Random(config.seed)
        self.webhooks = WebhookDispatcher(
            config.client_secret.get_secret_value(),
            config.webhook_retry_schedule_s,
            config.webhook_timeout_s,
            url=config.webhook_url,
            transport=webhook_transport,
            rng=random.Random(config.seed + 1),
        )

    # -- faults -----------------------------------------------------------------------------
    def set_faults(self, faults: Faults) -> None:
        """Replace the fault knobs (and pass the webhook ones to the dispatcher)."""
        self.faults = faults
        self.webhooks.faults.drop_rate = faults.webhook_drop_rate
        self.webhooks.faults.duplicate_rate = faults.webhook_duplicate_rate

    # -- time and the webhook feed ------------------------------------------------------------
    def fire_due(self) -> int:
        """Emit a webhook for every timeline change that became visible since the last call.

        Returns:
            The number of events emitted (for users with a live grant).
        """
        now = self.clock.now_ms()
        end = bisect.bisect_right(self._feed_times, now, lo=self._feed_pos)
        fired = 0
        for f in self._feed[self._feed_pos : end]:
            tl = f.timeline
            still_valid = (
                tl.deleted_ms == f.at_ms
                if f.event_type.endswith(".deleted")
                else tl.deleted_ms is None or tl.deleted_ms > f.at_ms
            )
            if still_valid and self._emit(tl, f.event_type):
                fired += 1
        self._feed_pos = end
        return fired

    def _emit(self, tl: Timeline, event_type: str) -> bool:
        if tl.webhook_id is None or not self.oauth.has_grant(tl.user_id):
            return False
        return self.webhooks.emit(tl.user_id, tl.webhook_id, event_type) is not None

    # -- admin mutations -------------------------------------------------------------------
    def rescore(self, user_id: int, resource: Resource, key: str) -> dict[str, Any]:
        """Add a re-scored version visible now (new ``updated_at``) and fire its webhook.

        Raises:
            KeyError: no such visible record.
        """
        tl = self.index[user_id][resource][key]
        now = self.clock.now_ms()
        current = tl.at(now)
        if current is None:
            raise KeyError(key)
        rec = _copy(current.record)
        score = rec.get("score")
        if isinstance(score, dict):
            if resource == "recovery":
                score["recovery_score"] = float(min(100.0, max(0.0, score["recovery_score"] + 5)))
            elif resource == "cycle":
                score["strain"] = round(min(21.0, score["strain"] + 0.5), 6)
            elif resource == "workout":
                score["strain"] = round(min(21.0, score["strain"] * 1.05), 4)
            elif resource == "sleep":
                ss = score["stage_summary"]
                shift = min(ss["total_light_sleep_time_milli"], 5 * MINUTE)
                ss["total_light_sleep_time_milli"] -= shift
                ss["total_slow_wave_sleep_time_milli"] += shift
        rec["updated_at"] = iso_ms(now)
        version = Version(now, rec, current.start_ms, current.end_ms)
        pos = bisect.bisect_right([v.visible_ms for v in tl.versions], now)
        tl.versions.insert(pos, version)
        if resource != "cycle":
            self._emit(tl, f"{resource}.updated")
        return rec

    def delete(self, user_id: int, resource: Resource, key: str) -> list[str]:
        """Delete a record now (a sleep takes its recovery with it) and fire the webhooks.

        Returns:
            The event types fired.

        Raises:
            KeyError: no such visible record.
        """
        tl = self.index[user_id][resource][key]
        now = self.clock.now_ms()
        if tl.at(now) is None:
            raise KeyError(key)
        targets = [tl]
        if resource == "sleep":
            for rec_tl in self.index[user_id]["recovery"].values():
                if rec_tl.webhook_id == key and rec_tl.at(now) is not None:
                    targets.append(rec_tl)
        fired: list[str] = []
        for t in targets:
            t.deleted_ms = now
            if t.resource != "cycle":
                self._emit(t, f"{t.resource}.deleted")
                fired.append(f"{t.resource}.deleted")
        return fired

    def advance(self, hours: float) -> int:
        """Move simulated time forward and fire what became due."""
        self.clock.advance(int(hours * HOUR))
        return self.fire_due()


def _copy(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in rec.items()}
