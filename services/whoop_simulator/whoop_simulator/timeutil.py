"""Timestamp helpers in WHOOP's wire format (ISO-8601 UTC, milliseconds, ``Z``).

The generator keeps every instant as integer epoch milliseconds: sorting, windowing and
paging are then plain integer comparisons, and formatting happens once per record.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|z|[+-]\d{2}:?\d{2})$"
)


def iso_ms(ms: int) -> str:
    """Format epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    s, r = divmod(ms, 1000)
    t = time.gmtime(s)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{r:03d}Z"
    )


def parse_iso(value: str) -> int:
    """Parse an ISO-8601 date-time with an explicit offset into epoch milliseconds.

    Raises:
        ValueError: when the text is not a date-time with ``Z`` or a numeric offset; WHOOP
            answers such a query parameter with 400.
    """
    if not _ISO_RE.match(value.strip()):
        raise ValueError(f"not an ISO-8601 date-time with offset: {value!r}")
    dt = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    return to_ms(dt)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive is taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(round(dt.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime of epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def naive_utc(ms: int) -> datetime:
    """Naive UTC datetime (what warehouse ``timestamp_ntz`` columns hold)."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=ms)


def day_start_ms(d: date) -> int:
    """Epoch milliseconds of 00:00 UTC on ``d``."""
    return (d - date(1970, 1, 1)).days * 86_400_000


def tzd(offset_min: int) -> str:
    """W3C TZD of an offset in minutes: ``Z`` for zero, else ``+hh:mm`` / ``-hh:mm``."""
    if offset_min == 0:
        return "Z"
    sign = "+" if offset_min > 0 else "-"
    h, m = divmod(abs(offset_min), 60)
    return f"{sign}{h:02d}:{m:02d}"


def parse_tzd(value: str) -> int:
    """Offset in minutes of a TZD string (``Z``, ``+hh:mm``, ``-hh:mm``)."""
    if value in ("Z", "z", "+00:00", "-00:00"):
        return 0
    sign = 1 if value[0] == "+" else -1
    hh, mm = value[1:].split(":")
    return sign * (int(hh) * 60 + int(mm))
