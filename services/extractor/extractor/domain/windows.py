"""Split a history into fixed windows so a backfill can checkpoint and resume per window."""

from __future__ import annotations

from datetime import datetime, timedelta


def split_windows(start: datetime, end: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive windows of ``days`` (the last one shorter).

    Newest first: a user sees recent data before the deep history finishes. A remainder shorter
    than a quarter window is merged into the oldest full window: a sliver costs a whole
    (mostly empty) request per resource for nothing.
    """
    if days <= 0:
        raise ValueError("window days must be positive")
    out: list[tuple[datetime, datetime]] = []
    hi = end
    step = timedelta(days=days)
    while hi > start:
        lo = max(start, hi - step)
        if lo - start < step / 4:
            lo = start
        out.append((lo, hi))
        hi = lo
    return out
