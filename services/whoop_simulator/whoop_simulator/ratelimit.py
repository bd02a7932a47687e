"""Per-app rate limits with WHOOP's headers (API reference §10).

Two fixed windows (default 100 per 60 s and 10,000 per 86,400 s). ``X-RateLimit-Limit``
starts with the limit closest to exhaustion, then lists each policy; ``Remaining`` and
``Reset`` (a delta in seconds) describe that closest window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Window:
    limit: int
    size_s: float
    started: float = -1.0
    count: int = 0


@dataclass
class RateDecision:
    """Whether the request may proceed and the headers to send either way."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)


class RateLimiter:
    """Counts requests per client id on the (injectable) wall clock."""

    def __init__(
        self,
        per_minute: int,
        per_day: int,
        minute_s: float = 60.0,
        day_s: float = 86_400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._spec = ((per_minute, minute_s), (per_day, day_s))
        self._clock = clock
        self._windows: dict[str, list[_Window]] = {}

    def hit(self, client_id: str) -> RateDecision:
        """Count one request (unless refused) and return the decision with headers."""
        now = self._clock()
        wins = self._windows.setdefault(client_id, [_Window(lim, s) for lim, s in self._spec])
        for w in wins:
            start = math.floor(now / w.size_s) * w.size_s
            if start != w.started:
                w.started, w.count = start, 0
        allowed = all(w.count < w.limit for w in wins)
        if allowed:
            for w in wins:
                w.count += 1
        closest = min(wins, key=lambda w: (w.limit - w.count, -w.size_s))
        policies = ", ".join(f"{w.limit};window={_num(w.size_s)}" for w in wins)
        reset = max(0, math.ceil(closest.started + closest.size_s - now))
        return RateDecision(
            allowed,
            {
                "X-RateLimit-Limit": f"{closest.limit}, {policies}",
                "X-RateLimit-Remaining": str(max(0, closest.limit - closest.count)),
                "X-RateLimit-Reset": str(reset),
            },
        )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
