"""The official WHOOP sport list, read from package data (never from outside the package).

v2 workouts name their sport with a lower-case slug (``sport_name``) whose separators vary
(``mountain-biking``, ``hot_tub``); the platform normalises ``-``/``_``/space before matching.
The generator emits both separator styles on purpose so that normalisation is exercised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

UNKNOWN_SPORT_ID = -1

# Sports whose workouts carry GPS distance; the value says whether altitude comes with it.
GPS_SPORTS: dict[int, bool] = {
    0: True, 1: True, 18: False, 29: True, 33: False, 47: True, 49: True, 52: True, 55: False,
    57: True, 61: False, 62: True, 63: True, 89: True, 91: True, 102: True, 105: True,
    239: False, 252: True, 253: True, 266: True,
}  # fmt: skip

# Typical effort (fraction of heart-rate reserve) per sport; everything else defaults to 0.5.
INTENSITY: dict[int, float] = {
    0: 0.72, 1: 0.65, 18: 0.68, 33: 0.62, 44: 0.3, 43: 0.35, 45: 0.45, 48: 0.62, 52: 0.45,
    57: 0.66, 63: 0.3, 96: 0.72, 97: 0.7, 123: 0.45, 70: 0.1, 233: 0.2, 88: 0.1, 128: 0.2,
}  # fmt: skip

# Sports people actually log most; users pick favourites from here.
COMMON_SPORTS: tuple[int, ...] = (
    0, 1, 45, 48, 44, 63, 52, 33, 97, 96, 123, 34, 30, 43, 57, 18, 65, 17, 233, 70,
)  # fmt: skip


@dataclass(frozen=True)
class Sport:
    """One row of the official table."""

    sport_id: int
    name: str


@lru_cache(maxsize=1)
def load_sports() -> dict[int, Sport]:
    """All official sports by id, from ``whoop_simulator/data/whoop-sports.tsv``."""
    text = resources.files("whoop_simulator").joinpath("data/whoop-sports.tsv").read_text("utf-8")
    out: dict[int, Sport] = {}
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        sid, name = line.split("\t", 1)
        out[int(sid)] = Sport(int(sid), name.strip())
    return out


def normalise(name: str) -> str:
    """The platform's matching rule: lower case, ``-``/``_``/space all become one space."""
    return re.sub(r"[-_ ]", " ", name.strip().lower())


def slug(sport_id: int) -> str:
    """The v2 ``sport_name`` the simulator emits for a sport id (separator varies by id)."""
    sport = load_sports()[sport_id]
    sep = "_" if sport_id % 3 == 0 else "-"
    return sport.name.lower().replace(" ", sep)


@lru_cache(maxsize=1)
def _by_normalised() -> dict[str, int]:
    return {normalise(s.name): s.sport_id for s in load_sports().values()}


def sport_id_for_name(sport_name: str) -> int:
    """Map a v2 slug to its official id the way the platform must; unknown → -1."""
    return _by_normalised().get(normalise(sport_name), UNKNOWN_SPORT_ID)
