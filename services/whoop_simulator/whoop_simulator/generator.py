"""Deterministic synthetic physiology: WHOOP v2 records with known ground truth.

Why it looks like this:

* **Deterministic.** Every user draws from its own ``numpy.random.Generator`` seeded with
  ``(seed, user_index)``, so user 7 is the same whatever the number of users, and two runs
  with one seed are byte-identical.
* **Lazy and flat in memory.** :func:`iter_users` yields one :class:`SimUser` at a time; a
  caller that writes each user out and drops it holds one user's records at most.
* **Realistic noise.** Calibrated to the real-data profile: per-person baselines, recovery
  mean ~59 / sd ~22 with *low* day-to-day autocorrelation (~0.14), HRV and resting HR tied to
  recovery (~+0.79 / ~-0.66), yesterday's strain lowering today's recovery (~-0.27). A
  generator smoother than real data would make every model look better than it is.
* **Timelines, not snapshots.** Each record is a :class:`Timeline` of versions, each visible
  from an instant (``PENDING_SCORE`` → ``SCORED`` → late re-score) plus an optional delete.
  The simulator shows the version visible at its clock and fires a webhook per version, and
  the ground truth reads the same timelines, so API, webhooks and truth cannot disagree.

Public API::

    generate_user(seed, index, start, days, *, now=None, legacy_ids=True) -> SimUser
    iter_users(seed, n_users, start, days, *, now=None, legacy_ids=True) -> Iterator[SimUser]
    user_id_for(index) -> int

``SimUser.cycles`` / ``.sleeps`` / ``.recoveries`` / ``.workouts`` are the v2 JSON dicts visible
at ``SimUser.now_ms`` (post re-score, deleted records gone), oldest first;
``SimUser.records(resource, as_of_ms)`` gives them at any other instant.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np

from whoop_simulator import sports
from whoop_simulator.timeutil import day_start_ms, iso_ms, to_ms, tzd

Resource = Literal["cycle", "sleep", "recovery", "workout"]
RESOURCES: tuple[Resource, ...] = ("cycle", "sleep", "recovery", "workout")

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
LEGACY_SUNSET_MS = to_ms(datetime(2025, 9, 1, tzinfo=UTC))
USER_ID_BASE = 10_100
CYCLE_ID_BASE = 1_100_000_000
CYCLE_IDS_PER_USER = 1_000_000
CALIBRATION_DAYS = 14

FIRST_NAMES = ("Rosa", "Amir", "Jun", "Lena", "Tomas", "Priya", "Kofi", "Mia", "Noah", "Ines")
LAST_NAMES = ("Okafor", "Lindqvist", "Tanaka", "Moreau", "Silva", "Novak", "Haddad", "Brennan")
HOME_OFFSETS_MIN = (-480, -420, -360, -300, -240, 0, 0, 60, 60, 120, 330, 480, 540, 600)


@dataclass(slots=True)
class Version:
    """One state of a record and the instant (epoch ms) from which the API shows it."""

    visible_ms: int
    record: dict[str, Any]
    start_ms: int
    end_ms: int | None


@dataclass(slots=True)
class Timeline:
    """Every version of one record, oldest first, and when (if ever) it was deleted.

    ``key`` is the record's API key as a string (``id``; ``cycle_id`` for a recovery);
    ``webhook_id`` is the id a webhook carries (the sleep UUID for a recovery; None for
    cycles, which have no webhooks).
    """

    resource: Resource
    key: str
    user_id: int
    versions: list[Version]
    webhook_id: str | None = None
    deleted_ms: int | None = None

    def at(self, t_ms: int) -> Version | None:
        """The version the API shows at ``t_ms``; None before creation or after deletion."""
        if self.deleted_ms is not None and self.deleted_ms <= t_ms:
            return None
        found: Version | None = None
        for v in self.versions:
            if v.visible_ms <= t_ms:
                found = v
            else:
                break
        return found


@dataclass(frozen=True, slots=True)
class GroundTruthEvent:
    """A labelled event the platform should be able to see in the data.

    ``kind`` is ``illness``, ``travel``, ``non_wear``, ``nap``, ``rescore`` or ``delete``;
    ``first_day``/``last_day`` are local wake days (inclusive); ``details`` carries
    kind-specific facts (offsets, record ids, resource).
    """

    kind: str
    first_day: date
    last_day: date
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UserTraits:
    """Per-person physiology baselines (the individual differences models must learn)."""

    hrv_mean: float
    hrv_cv: float
    rhr_mean: float
    rhr_sd: float
    rec_mean: float
    rec_sd: float
    strain_mean: float
    strain_sd: float
    onset_hour: float
    asleep_mean_min: float
    efficiency: float
    deep_share: float
    rem_share: float
    resp_rate: float
    skin_temp: float
    spo2: float
    has_spo2: bool
    has_skin_temp: bool
    workouts_per_week: float
    workout_minutes: float
    favourite_sports: tuple[int, ...]
    home_offset_min: int
    max_hr: int
    nap_rate: float
    need_baseline_min: float
    calibrating_from_start: bool


@dataclass
class SimUser:
    """One simulated WHOOP member: profile, body, record timelines and labelled events."""

    index: int
    user_id: int
    seed: int
    start: date
    days: int
    now_ms: int
    traits: UserTraits
    profile: dict[str, Any]
    body: dict[str, Any] | None
    timelines: dict[Resource, list[Timeline]]
    events: list[GroundTruthEvent]

    def records(self, resource: Resource, as_of_ms: int | None = None) -> list[dict[str, Any]]:
        """The v2 records of ``resource`` visible at ``as_of_ms`` (default ``now_ms``)."""
        t = self.now_ms if as_of_ms is None else as_of_ms
        out: list[dict[str, Any]] = []
        for tl in self.timelines[resource]:
            v = tl.at(t)
            if v is not None:
                out.append(v.record)
        return out

    @property
    def cycles(self) -> list[dict[str, Any]]:
        """Cycles visible at ``now_ms`` (the last one may be open: no ``end``)."""
        return self.records("cycle")

    @property
    def sleeps(self) -> list[dict[str, Any]]:
        """Sleeps (main and naps) visible at ``now_ms``."""
        return self.records("sleep")

    @property
    def recoveries(self) -> list[dict[str, Any]]:
        """Recoveries visible at ``now_ms``."""
        return self.records("recovery")

    @property
    def workouts(self) -> list[dict[str, Any]]:
        """Workouts visible at ``now_ms``."""
        return self.records("workout")

    def timeline(self, resource: Resource, key: str) -> Timeline | None:
        """Find one record's timeline by API key (``cycle_id`` string for recoveries)."""
        for tl in self.timelines[resource]:
            if tl.key == key:
                return tl
        return None


def user_id_for(index: int) -> int:
    """The WHOOP ``user_id`` of simulated user ``index`` (stable across seeds and counts)."""
    return USER_ID_BASE + index


def _uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _traits(rng: np.random.Generator) -> UserTraits:
    hrv_mean = float(np.clip(math.exp(rng.normal(math.log(62.0), 0.45)), 17.0, 144.0))
    # Fitter people (high HRV) tend to have a lower resting HR.
    rhr_mean = float(np.clip(60.0 - 7.0 * math.log(hrv_mean / 62.0) + rng.normal(0, 5), 43, 80))
    strain_mean = float(np.clip(rng.normal(10.2, 2.3), 5.7, 16.5))
    favourites = tuple(
        int(s)
        for s in rng.choice(sports.COMMON_SPORTS, size=int(rng.integers(2, 5)), replace=False)
    )
    old_hardware = bool(rng.random() < 0.15)
    return UserTraits(
        hrv_mean=hrv_mean,
        hrv_cv=float(np.clip(rng.normal(0.25, 0.05), 0.15, 0.45)),
        rhr_mean=rhr_mean,
        rhr_sd=float(np.clip(rng.normal(5.7, 1.2), 3.3, 8.5)),
        rec_mean=float(np.clip(rng.normal(59.0, 5.0), 46.7, 66.3)),
        rec_sd=float(np.clip(rng.normal(21.8, 1.8), 18.0, 24.9)),
        strain_mean=strain_mean,
        strain_sd=float(np.clip(rng.normal(3.4, 0.6), 1.7, 4.1)),
        onset_hour=float(np.clip(rng.normal(23.0, 0.8), 21.0, 25.5)),
        asleep_mean_min=float(np.clip(rng.normal(422, 22), 378, 460)),
        efficiency=float(np.clip(rng.normal(89, 3.5), 78, 94)),
        deep_share=float(np.clip(rng.normal(0.22, 0.02), 0.17, 0.26)),
        rem_share=float(np.clip(rng.normal(0.24, 0.035), 0.15, 0.33)),
        resp_rate=float(np.clip(rng.normal(15.5, 0.9), 14.0, 17.8)),
        skin_temp=float(np.clip(rng.normal(33.8, 0.45), 32.7, 34.6)),
        spo2=float(np.clip(rng.normal(95.7, 0.9), 92.7, 97.4)),
        has_spo2=not old_hardware,
        has_skin_temp=not old_hardware,
        workouts_per_week=float(np.clip(rng.normal(5.5, 1.5), 2.2, 8.0)),
        workout_minutes=float(np.clip(rng.normal(61, 14), 32, 90)),
        favourite_sports=favourites,
        home_offset_min=int(rng.choice(HOME_OFFSETS_MIN)),
        max_hr=int(np.clip(rng.normal(188, 8), 165, 205)),
        nap_rate=float(np.clip(rng.lognormal(math.log(0.06), 0.7), 0.007, 0.25)),
        need_baseline_min=float(np.clip(rng.normal(465, 20), 420, 510)),
        calibrating_from_start=bool(rng.random() < 0.5),
    )


@dataclass
class _Night:
    """Per-day state before records are written (internal)."""

    wake_day: date
    offset_min: int
    onset_ms: int
    worn: bool
    new_cycle: bool
    ill: float


class _Builder:
    """Builds one user's timelines day by day; all randomness comes from ``rng``."""

    def __init__(
        self, rng: np.random.Generator, index: int, start: date, days: int, legacy: bool
    ) -> None:
        self.rng = rng
        self.index = index
        self.user_id = user_id_for(index)
        self.start = start
        self.days = days
        self.legacy = legacy
        self.t = _traits(rng)
        self.events: list[GroundTruthEvent] = []
        self.timelines: dict[Resource, list[Timeline]] = {r: [] for r in RESOURCES}
        self.next_cycle_id = CYCLE_ID_BASE + index * CYCLE_IDS_PER_USER + int(rng.integers(0, 5000))
        self.next_v1 = 2_000_000_000 + index * 10_000_000

    # -- schedule: time zones, illness, non-wear ------------------------------------------
    def _offsets(self) -> list[int]:
        rng, t = self.rng, self.t
        offsets = [t.home_offset_min] * self.days
        d = int(rng.integers(5, 40))
        while d < self.days:
            length = int(rng.integers(2, 13))
            shift_h = int(rng.choice((-9, -6, -3, -2, -1, 1, 2, 3, 6, 8)))
            away = max(-720, min(840, t.home_offset_min + shift_h * 60))
            last = min(self.days, d + length)
            for k in range(d, last):
                offsets[k] = away
            self.events.append(
                GroundTruthEvent(
                    "travel",
                    self.start + timedelta(days=d),
                    self.start + timedelta(days=last - 1),
                    {"from_offset": tzd(t.home_offset_min), "to_offset": tzd(away)},
                )
            )
            d = last + int(rng.exponential(70)) + 5
        return offsets

    def _illness(self) -> list[float]:
        rng = self.rng
        ill = [0.0] * self.days
        d = int(rng.exponential(220))
        while d < self.days:
            length = int(rng.integers(3, 8))
            last = min(self.days, d + length)
            for k in range(d, last):
                pos = (k - d) / max(1, length - 1)
                ill[k] = 0.6 + 0.4 * math.sin(math.pi * pos)  # rises, peaks, fades
            self.events.append(
                GroundTruthEvent(
                    "illness",
                    self.start + timedelta(days=d),
                    self.start + timedelta(days=last - 1),
                    {"severity_peak": 1.0},
                )
            )
            d = last + int(rng.exponential(240)) + 20
        return ill

    def _wear(self) -> tuple[list[bool], list[bool]]:
        """(worn overnight, starts a new cycle) per night: non-wear gaps and merged cycles."""
        rng = self.rng
        worn = [True] * self.days
        new_cycle = [True] * self.days
        gap_rate = float(np.clip(rng.lognormal(math.log(0.012), 0.6), 0.002, 0.05))
        d = 3
        while d < self.days:
            if rng.random() < gap_rate:
                length = int(rng.integers(1, 4))
                last = min(self.days, d + length)
                for k in range(d, last):
                    worn[k] = False
                    # A multi-night gap merges nights into one long cycle, as real data shows.
                    new_cycle[k] = k == d or rng.random() < 0.5
                self.events.append(
                    GroundTruthEvent(
                        "non_wear",
                        self.start + timedelta(days=d),
                        self.start + timedelta(days=last - 1),
                        {"nights": last - d},
                    )
                )
                d = last + 2
            else:
                d += 1
        return worn, new_cycle

    # -- helpers ---------------------------------------------------------------------------
    def _ms_jitter(self) -> int:
        return int(self.rng.integers(0, 1000))

    def _new_cycle_id(self) -> int:
        self.next_cycle_id += int(self.rng.integers(1, 40))
        return self.next_cycle_id

    def _v1(self) -> int:
        self.next_v1 += int(self.rng.integers(1, 50))
        return self.next_v1

    def _maybe_rescore(self, tl: Timeline, mutate: Any, base_ms: int) -> None:
        """Append a late re-score (new ``updated_at``, changed values) to a timeline."""
        last = tl.versions[-1]
        when = base_ms + int(self.rng.uniform(2 * HOUR, 72 * HOUR))
        rec = _deepcopy(last.record)
        mutate(rec)
        rec["updated_at"] = iso_ms(when)
        tl.versions.append(Version(when, rec, last.start_ms, last.end_ms))

    # -- main loop -------------------------------------------------------------------------
    def build(self) -> tuple[list[_Night], dict[Resource, list[Timeline]]]:
        rng, t = self.rng, self.t
        offsets = self._offsets()
        ill = self._illness()
        worn, new_cycle = self._wear()

        nights: list[_Night] = []
        prev_wake_ms = day_start_ms(self.start) - 16 * HOUR - t.home_offset_min * MINUTE
        for i in range(self.days):
            wake_day = self.start + timedelta(days=i)
            local_onset_h = t.onset_hour + rng.normal(0, 0.75)
            onset_ms = (
                day_start_ms(wake_day)
                - DAY
                + int(local_onset_h * HOUR)
                - offsets[i] * MINUTE
                + self._ms_jitter()
            )
            onset_ms = max(onset_ms, prev_wake_ms + 3 * HOUR + int(rng.integers(0, HOUR)))
            nights.append(_Night(wake_day, offsets[i], onset_ms, worn[i], new_cycle[i], ill[i]))
            prev_wake_ms = onset_ms + 8 * HOUR
        if nights:
            nights[0].new_cycle = True

        # Cycle boundaries: each night that starts a cycle opens one; merged nights extend it.
        cycle_starts = [k for k, n in enumerate(nights) if n.new_cycle]
        u = 0.0  # AR(1) part of recovery
        prev_strain_z = 0.0
        prev_debt = 0.0
        prev_strain = t.strain_mean
        prev_nap_min = 0.0
        prev_onset_local_h: float | None = None
        scored_nights = 0
        hrv_sigma = math.sqrt(math.log(1 + t.hrv_cv**2))
        for ci, k in enumerate(cycle_starts):
            night = nights[k]
            nxt = cycle_starts[ci + 1] if ci + 1 < len(cycle_starts) else None
            c_start = night.onset_ms
            c_end = nights[nxt].onset_ms if nxt is not None else None
            cycle_id = self._new_cycle_id()
            illness = max(nights[j].ill for j in range(k, nxt if nxt is not None else k + 1))

            # ---- sleep and recovery of the night that opens the cycle -------------------
            wake_ms = c_start
            sleep_tl: Timeline | None = None
            rec_z: float | None = None
            asleep_min = 0.0
            if night.worn:
                need_debt = 0.55 * prev_debt
                need_strain = max(0.0, (prev_strain - 10.0) * 3.2)
                need_nap = -0.8 * prev_nap_min
                need_total = t.need_baseline_min + need_debt + need_strain + need_nap
                asleep_min = float(
                    np.clip(
                        rng.normal(t.asleep_mean_min + 0.15 * need_debt - 20 * illness, 80),
                        150,
                        720,
                    )
                )
                efficiency = float(np.clip(rng.normal(t.efficiency, 3.5), 62, 99))
                in_bed_min = asleep_min / (efficiency / 100.0)
                no_data_min = float(rng.choice((0.0, 0.0, 0.0, rng.uniform(1, 12))))
                in_bed_min += no_data_min
                deep = asleep_min * float(np.clip(rng.normal(t.deep_share, 0.03), 0.1, 0.35))
                rem = asleep_min * float(np.clip(rng.normal(t.rem_share, 0.035), 0.1, 0.4))
                light = asleep_min - deep - rem
                awake = in_bed_min - asleep_min - no_data_min
                wake_ms = c_start + int(in_bed_min * MINUTE)
                perf = min(100.0, 100.0 * asleep_min / need_total)
                perf_z = (perf - 80.0) / 15.0
                debt = max(0.0, need_total - asleep_min)

                # Recovery latent: yesterday's strain and last night's sleep, plus noise.
                u = 0.16 * u + rng.normal(0, 0.93)
                rec_z = -0.33 * prev_strain_z + 0.18 * perf_z + u - 1.9 * illness
                recovery = float(np.clip(t.rec_mean + t.rec_sd * rec_z, 1, 99))
                rz = (recovery - t.rec_mean) / t.rec_sd
                hrv = t.hrv_mean * math.exp(
                    hrv_sigma * (0.8 * rz + 0.6 * rng.normal()) - 0.18 * illness
                )
                rhr = t.rhr_mean + t.rhr_sd * (-0.68 * rz + 0.73 * rng.normal()) + 5.0 * illness
                skin = t.skin_temp + rng.normal(0, 0.25) + 0.8 * illness
                resp = t.resp_rate + rng.normal(0, 0.35) + 1.6 * illness
                spo2 = min(100.0, t.spo2 + rng.normal(0, 0.7) - 1.2 * illness)
                onset_local_h = (c_start / HOUR + night.offset_min / 60.0) % 24
                consistency: float | None = None
                if prev_onset_local_h is not None and scored_nights >= 4:
                    diff = abs(onset_local_h - prev_onset_local_h)
                    diff = min(diff, 24 - diff)
                    consistency = float(np.clip(100 - 22 * diff + rng.normal(0, 6), 5, 100))
                prev_onset_local_h = onset_local_h
                calibrating = t.calibrating_from_start and (night.wake_day - self.start).days < (
                    CALIBRATION_DAYS
                )
                sleep_tl = self._sleep(
                    cycle_id=cycle_id,
                    start_ms=c_start,
                    end_ms=wake_ms,
                    offset_min=night.offset_min,
                    nap=False,
                    stages=(in_bed_min, awake, no_data_min, light, deep, rem),
                    need=(t.need_baseline_min, need_debt, need_strain, need_nap),
                    perf=perf if scored_nights >= 2 else None,
                    consistency=consistency,
                    efficiency=100.0 * asleep_min / (in_bed_min - no_data_min),
                    resp=resp,
                )
                scored_nights += 1
                self._recovery(
                    cycle_id,
                    sleep_tl,
                    score={
                        "user_calibrating": calibrating,
                        "recovery_score": round(recovery, 0),
                        "resting_heart_rate": round(rhr, 0),
                        "hrv_rmssd_milli": round(hrv, 5),
                        # Older straps never send SpO2; newer ones miss the odd night.
                        "spo2_percentage": (
                            round(spo2, 4) if t.has_spo2 and rng.random() > 0.03 else None
                        ),
                        "skin_temp_celsius": round(skin, 5) if t.has_skin_temp else None,
                    },
                )
                prev_debt = debt
            else:
                prev_debt = prev_debt * 0.5

            # ---- the day: workouts, naps, strain -----------------------------------------
            day_end = c_end if c_end is not None else c_start + 24 * HOUR
            strain_z = rng.normal() + 0.1 * (rec_z or 0.0) - 1.2 * illness
            day_strain = float(np.clip(t.strain_mean + t.strain_sd * strain_z, 0.1, 20.9))
            n_workouts = int(rng.poisson(t.workouts_per_week / 7.0 * (1 - 0.7 * illness)))
            kj_workouts = 0.0
            max_hr_day = 0
            rhr_day = t.rhr_mean
            for _ in range(n_workouts):
                w = self._workout(wake_ms, day_end, night.offset_min, day_strain, rhr_day)
                if w is not None:
                    kj_workouts += w[0]
                    max_hr_day = max(max_hr_day, w[1])
            prev_nap_min = 0.0
            if night.worn and rng.random() < t.nap_rate:
                prev_nap_min = self._nap(cycle_id, wake_ms, day_end, night.offset_min, night)
            span_h = (day_end - c_start) / HOUR
            kj = (6800.0 + 120 * (day_strain - 10)) * span_h / 24.0 + kj_workouts
            avg_hr = int(round(rhr_day + 10 + 1.6 * day_strain + rng.normal(0, 3)))
            max_hr = int(
                min(t.max_hr, max(max_hr_day, avg_hr + 35 + 4.5 * day_strain + rng.normal(0, 6)))
            )
            self._cycle(
                cycle_id,
                c_start,
                c_end,
                night.offset_min,
                wake_ms,
                score={
                    "strain": round(day_strain, 6),
                    "kilojoule": round(kj, 1),
                    "average_heart_rate": avg_hr,
                    "max_heart_rate": max_hr,
                },
                unscorable=not night.worn and rng.random() < 0.3,
            )
            prev_strain_z = (day_strain - t.strain_mean) / t.strain_sd
            prev_strain = day_strain
        return nights, self.timelines

    # -- record builders -------------------------------------------------------------------
    def _base(self, created_ms: int) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "created_at": iso_ms(created_ms),
            "updated_at": iso_ms(created_ms),
        }

    def _cycle(
        self,
        cycle_id: int,
        start_ms: int,
        end_ms: int | None,
        offset_min: int,
        wake_ms: int,
        score: dict[str, Any],
        unscorable: bool,
    ) -> None:
        created = start_ms + MINUTE + self._ms_jitter()
        open_rec: dict[str, Any] = {"id": cycle_id, **self._base(created)}
        open_rec.update({"start": iso_ms(start_ms), "timezone_offset": tzd(offset_min)})
        pending = dict(open_rec, score_state="PENDING_SCORE")
        versions = [Version(created, pending, start_ms, None)]
        # Mid-day the open cycle is scored with the strain so far (it keeps rising).
        mid = max(created + MINUTE, wake_ms + 4 * HOUR)
        if end_ms is None or mid < end_ms:
            partial = dict(score)
            partial["strain"] = round(score["strain"] * 0.45, 6)
            partial["kilojoule"] = round(score["kilojoule"] * 0.4, 1)
            rec = dict(open_rec, updated_at=iso_ms(mid), score_state="SCORED", score=partial)
            versions.append(Version(mid, rec, start_ms, None))
        if end_ms is not None:
            # Keep key order as WHOOP does: id, user_id, created_at, updated_at, start, end, ...
            closed = {
                "id": cycle_id,
                "user_id": self.user_id,
                "created_at": open_rec["created_at"],
                "updated_at": iso_ms(end_ms),
                "start": iso_ms(start_ms),
                "end": iso_ms(end_ms),
                "timezone_offset": tzd(offset_min),
            }
            if unscorable:
                closed["score_state"] = "UNSCORABLE"
            else:
                closed["score_state"] = "SCORED"
                closed["score"] = score
            versions.append(Version(end_ms, closed, start_ms, end_ms))
        self.timelines["cycle"].append(Timeline("cycle", str(cycle_id), self.user_id, versions))

    def _sleep(
        self,
        *,
        cycle_id: int,
        start_ms: int,
        end_ms: int,
        offset_min: int,
        nap: bool,
        stages: tuple[float, float, float, float, float, float],
        need: tuple[float, float, float, float],
        perf: float | None,
        consistency: float | None,
        efficiency: float,
        resp: float,
    ) -> Timeline:
        rng = self.rng
        sleep_id = _uuid(rng)
        created = end_ms + int(rng.uniform(2, 15) * MINUTE)
        scored_at = created + int(rng.uniform(1, 10) * MINUTE)
        rec: dict[str, Any] = {"id": sleep_id, "cycle_id": cycle_id}
        if self.legacy and created < LEGACY_SUNSET_MS:
            rec["v1_id"] = self._v1()
        rec.update(self._base(created))
        rec.update(
            {
                "start": iso_ms(start_ms),
                "end": iso_ms(end_ms),
                "timezone_offset": tzd(offset_min),
                "nap": nap,
                "score_state": "PENDING_SCORE",
            }
        )
        in_bed, awake, no_data, light, deep, rem = stages
        # Integer milliseconds that add up exactly: in bed = awake + no data + light + deep + rem.
        light_ms, deep_ms, rem_ms = (int(light * MINUTE), int(deep * MINUTE), int(rem * MINUTE))
        no_data_ms = int(no_data * MINUTE)
        in_bed_ms = end_ms - start_ms
        awake_ms = max(0, in_bed_ms - light_ms - deep_ms - rem_ms - no_data_ms)
        asleep_min = (light_ms + deep_ms + rem_ms) / MINUTE
        score: dict[str, Any] = {
            "stage_summary": {
                "total_in_bed_time_milli": in_bed_ms,
                "total_awake_time_milli": awake_ms,
                "total_no_data_time_milli": no_data_ms,
                "total_light_sleep_time_milli": light_ms,
                "total_slow_wave_sleep_time_milli": deep_ms,
                "total_rem_sleep_time_milli": rem_ms,
                "sleep_cycle_count": max(0, int(round(asleep_min / 90 + rng.normal(0, 0.6)))),
                "disturbance_count": max(0, int(round(rng.normal(in_bed / 55, 3)))),
            },
            "sleep_needed": {
                "baseline_milli": int(need[0] * MINUTE),
                "need_from_sleep_debt_milli": int(need[1] * MINUTE),
                "need_from_recent_strain_milli": int(need[2] * MINUTE),
                "need_from_recent_nap_milli": min(0, int(need[3] * MINUTE)),
            },
            "respiratory_rate": round(resp, 6),
        }
        if perf is not None:
            score["sleep_performance_percentage"] = round(perf, 0)
        if consistency is not None:
            score["sleep_consistency_percentage"] = round(consistency, 0)
        score["sleep_efficiency_percentage"] = round(min(100.0, efficiency), 5)
        unscorable = rng.random() < 0.005
        final = dict(rec, updated_at=iso_ms(scored_at))
        if unscorable:
            final["score_state"] = "UNSCORABLE"
        else:
            final["score_state"] = "SCORED"
            final["score"] = score
        tl = Timeline(
            "sleep",
            sleep_id,
            self.user_id,
            [Version(created, rec, start_ms, end_ms), Version(scored_at, final, start_ms, end_ms)],
            webhook_id=sleep_id,
        )
        if not unscorable and rng.random() < 0.03:

            def _restage(r: dict[str, Any]) -> None:
                ss = r["score"]["stage_summary"]
                shift = int(min(ss["total_light_sleep_time_milli"], 20 * MINUTE) * rng.random())
                ss["total_light_sleep_time_milli"] -= shift
                ss["total_slow_wave_sleep_time_milli"] += shift
                r["score"]["respiratory_rate"] = round(r["score"]["respiratory_rate"] + 0.2, 6)

            self._maybe_rescore(tl, _restage, scored_at)
            self.events.append(
                GroundTruthEvent(
                    "rescore",
                    _local_day(end_ms, offset_min),
                    _local_day(end_ms, offset_min),
                    {"resource": "sleep", "id": sleep_id},
                )
            )
        if rng.random() < (0.002 if not nap else 0.02):
            tl.deleted_ms = tl.versions[-1].visible_ms + int(rng.uniform(1, 48) * HOUR)
            self.events.append(
                GroundTruthEvent(
                    "delete",
                    _local_day(end_ms, offset_min),
                    _local_day(end_ms, offset_min),
                    {"resource": "sleep", "id": sleep_id},
                )
            )
        self.timelines["sleep"].append(tl)
        return tl

    def _recovery(self, cycle_id: int, sleep_tl: Timeline, score: dict[str, Any]) -> None:
        sleep_final = sleep_tl.versions[1]
        created = sleep_final.visible_ms + int(self.rng.integers(200, 3000))
        rec: dict[str, Any] = {"cycle_id": cycle_id, "sleep_id": sleep_tl.key}
        rec.update(self._base(created))
        clean = {k: v for k, v in score.items() if v is not None}
        if sleep_final.record["score_state"] == "SCORED":
            rec["score_state"] = "SCORED"
            rec["score"] = clean
        else:
            rec["score_state"] = "UNSCORABLE"
        tl = Timeline(
            "recovery",
            str(cycle_id),
            self.user_id,
            [Version(created, rec, sleep_final.start_ms, sleep_final.end_ms)],
            webhook_id=sleep_tl.key,
            deleted_ms=sleep_tl.deleted_ms,
        )
        if len(sleep_tl.versions) > 2:  # the sleep was re-scored: the recovery follows
            when = sleep_tl.versions[2].visible_ms + 1500
            new = _deepcopy(rec)
            if "score" in new:
                delta = float(self.rng.normal(0, 4))
                new["score"]["recovery_score"] = float(
                    np.clip(new["score"]["recovery_score"] + round(delta), 0, 100)
                )
            new["updated_at"] = iso_ms(when)
            tl.versions.append(Version(when, new, sleep_final.start_ms, sleep_final.end_ms))
        self.timelines["recovery"].append(tl)

    def _workout(
        self, wake_ms: int, day_end: int, offset_min: int, day_strain: float, rhr: float
    ) -> tuple[float, int] | None:
        rng, t = self.rng, self.t
        duration_min = float(
            np.clip(rng.lognormal(math.log(t.workout_minutes) - 0.08, 0.4), 8, 300)
        )
        earliest = wake_ms + 30 * MINUTE
        latest = day_end - int(duration_min * MINUTE) - 45 * MINUTE
        if latest <= earliest:
            return None
        start_ms = int(rng.integers(earliest, latest)) // 1000 * 1000
        end_ms = start_ms + int(duration_min * MINUTE) + self._ms_jitter()
        roll = rng.random()
        if roll < 0.9:
            sport_id = int(rng.choice(t.favourite_sports))
        else:
            sport_id = int(rng.choice(list(sports.load_sports())))
        unknown = rng.random() < 0.004
        sport_name = "hot_tub" if unknown else sports.slug(sport_id)
        intensity = sports.INTENSITY.get(sport_id, 0.5) * float(
            np.clip(rng.normal(1, 0.15), 0.5, 1.4)
        )
        reserve = t.max_hr - rhr
        avg_hr = int(np.clip(rhr + reserve * intensity, rhr + 5, t.max_hr - 5))
        max_hr = int(np.clip(avg_hr + rng.uniform(8, 35), avg_hr + 1, t.max_hr))
        strain = float(np.clip(day_strain * rng.uniform(0.55, 0.95) * (0.6 + intensity), 0.5, 20.5))
        strain = min(strain, day_strain)
        kj = duration_min * max(3.0, (avg_hr - rhr) * 0.34) * float(rng.uniform(0.85, 1.15))
        dur_ms = end_ms - start_ms
        rec_pct = 100.0 if rng.random() < 0.9 else round(float(rng.uniform(80, 99.9)), 4)
        recorded = int(dur_ms * rec_pct / 100.0)
        # Time in zones around the average effort (fractions of zones 0..5).
        centre = 1 + 4 * intensity
        weights = np.exp(-0.5 * ((np.arange(6) - centre) / 1.1) ** 2)
        weights = weights / weights.sum()
        zone_ms = [int(recorded * float(w)) for w in weights]
        zone_ms[int(np.argmax(weights))] += recorded - sum(zone_ms)
        created = end_ms + int(rng.uniform(1, 20) * MINUTE)
        scored_at = created + int(rng.uniform(1, 5) * MINUTE)
        wid = _uuid(rng)
        rec: dict[str, Any] = {"id": wid}
        legacy = self.legacy and created < LEGACY_SUNSET_MS
        if legacy:
            rec["v1_id"] = self._v1()
        rec.update(self._base(created))
        rec.update(
            {
                "start": iso_ms(start_ms),
                "end": iso_ms(end_ms),
                "timezone_offset": tzd(offset_min),
                "sport_name": sport_name,
                "score_state": "PENDING_SCORE",
            }
        )
        if legacy and not unknown:
            rec["sport_id"] = sport_id
        score: dict[str, Any] = {
            "strain": round(strain, 4),
            "average_heart_rate": avg_hr,
            "max_heart_rate": max_hr,
            "kilojoule": round(kj, 1),
            "percent_recorded": rec_pct,
        }
        gps = sports.GPS_SPORTS.get(sport_id)
        if gps is not None and not unknown and rng.random() < 0.9:
            speed_m_min = {0: 170.0, 1: 420.0, 33: 40.0, 18: 150.0}.get(sport_id, 90.0)
            score["distance_meter"] = round(
                duration_min * speed_m_min * float(rng.uniform(0.7, 1.3)), 1
            )
            if gps:
                score["altitude_gain_meter"] = round(float(rng.gamma(2.0, duration_min * 0.8)), 1)
                score["altitude_change_meter"] = round(float(rng.normal(0, 8)), 1)
        score["zone_durations"] = {
            "zone_zero_milli": zone_ms[0],
            "zone_one_milli": zone_ms[1],
            "zone_two_milli": zone_ms[2],
            "zone_three_milli": zone_ms[3],
            "zone_four_milli": zone_ms[4],
            "zone_five_milli": zone_ms[5],
        }
        final = dict(rec, updated_at=iso_ms(scored_at))
        if rng.random() < 0.005:
            final["score_state"] = "UNSCORABLE"
        else:
            final["score_state"] = "SCORED"
            final["score"] = score
        tl = Timeline(
            "workout",
            wid,
            self.user_id,
            [Version(created, rec, start_ms, end_ms), Version(scored_at, final, start_ms, end_ms)],
            webhook_id=wid,
        )
        day = _local_day(start_ms, offset_min)
        if "score" in final and rng.random() < 0.02:

            def _bump(r: dict[str, Any]) -> None:
                r["score"]["strain"] = round(min(21.0, r["score"]["strain"] * 1.08), 4)
                r["score"]["kilojoule"] = round(r["score"]["kilojoule"] * 1.05, 1)

            self._maybe_rescore(tl, _bump, scored_at)
            self.events.append(
                GroundTruthEvent("rescore", day, day, {"resource": "workout", "id": wid})
            )
        if rng.random() < 0.007:
            tl.deleted_ms = tl.versions[-1].visible_ms + int(rng.uniform(1, 48) * HOUR)
            self.events.append(
                GroundTruthEvent("delete", day, day, {"resource": "workout", "id": wid})
            )
        self.timelines["workout"].append(tl)
        return kj, max_hr

    def _nap(
        self, cycle_id: int, wake_ms: int, day_end: int, offset_min: int, night: _Night
    ) -> float:
        rng, t = self.rng, self.t
        minutes = float(rng.uniform(20, 95))
        local_midnight = day_start_ms(night.wake_day) - offset_min * MINUTE
        start_ms = local_midnight + int(rng.uniform(12.5, 16.5) * HOUR)
        end_ms = start_ms + int(minutes * MINUTE)
        if start_ms < wake_ms + HOUR or end_ms > day_end - 2 * HOUR:
            return 0.0
        asleep = minutes * 0.85
        deep, rem = asleep * 0.3, asleep * 0.1
        self._sleep(
            cycle_id=cycle_id,
            start_ms=start_ms,
            end_ms=end_ms,
            offset_min=offset_min,
            nap=True,
            stages=(minutes, minutes - asleep, 0.0, asleep - deep - rem, deep, rem),
            need=(30.0, 0.0, 0.0, 0.0),
            perf=min(100.0, 100 * asleep / 30.0),
            consistency=None,
            efficiency=85.0,
            resp=t.resp_rate + float(rng.normal(0, 0.3)),
        )
        day = night.wake_day
        self.events.append(GroundTruthEvent("nap", day, day, {"minutes": round(minutes, 1)}))
        return asleep


def _local_day(ms: int, offset_min: int) -> date:
    return (datetime(1970, 1, 1) + timedelta(milliseconds=ms + offset_min * MINUTE)).date()


def _deepcopy(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: _deepcopy(v) if isinstance(v, dict) else v for k, v in rec.items()}


def _profile(rng: np.random.Generator, user_id: int) -> dict[str, Any]:
    first = str(rng.choice(FIRST_NAMES))
    last = str(rng.choice(LAST_NAMES))
    return {
        "user_id": user_id,
        "email": f"{first.lower()}.{last.lower()}.{user_id}@example.com",
        "first_name": first,
        "last_name": last,
    }


def generate_user(
    seed: int,
    index: int,
    start: date,
    days: int,
    *,
    now: datetime | None = None,
    legacy_ids: bool = True,
) -> SimUser:
    """Generate one member's full history, deterministically from ``(seed, index)``.

    Args:
        seed: the run's seed; the same seed gives byte-identical users.
        index: 0-based user number (``user_id = 10100 + index``).
        start: first wake day (local) of the history; the first cycle starts the evening before.
        days: number of wake days to simulate.
        now: the instant the ``.cycles``/``.sleeps``/... views are taken at; default: 20:00 UTC
            on the last wake day (so the last cycle is open).
        legacy_ids: emit ``v1_id``/``sport_id`` on records created before 2025-09-01.

    Returns:
        The :class:`SimUser` with its timelines and labelled events.
    """
    rng = np.random.default_rng([int(seed), int(index)])
    builder = _Builder(rng, index, start, days, legacy_ids)
    builder.build()
    profile = _profile(rng, builder.user_id)
    body: dict[str, Any] | None = None
    if rng.random() > 0.1:
        body = {
            "height_meter": round(float(rng.normal(1.74, 0.09)), 4),
            "weight_kilogram": round(float(rng.normal(74, 12)), 1),
            "max_heart_rate": builder.t.max_hr,
        }
    now_ms = (
        to_ms(now)
        if now is not None
        else day_start_ms(start + timedelta(days=days - 1)) + 20 * HOUR
    )
    for tls in builder.timelines.values():
        tls.sort(key=lambda tl: (tl.versions[0].start_ms, tl.key))
    return SimUser(
        index=index,
        user_id=builder.user_id,
        seed=seed,
        start=start,
        days=days,
        now_ms=now_ms,
        traits=builder.t,
        profile=profile,
        body=body,
        timelines=builder.timelines,
        events=sorted(builder.events, key=lambda e: (e.first_day, e.kind)),
    )


def iter_users(
    seed: int,
    n_users: int,
    start: date,
    days: int,
    *,
    now: datetime | None = None,
    legacy_ids: bool = True,
) -> Iterator[SimUser]:
    """Yield users one at a time so memory stays at one user's history."""
    for index in range(n_users):
        yield generate_user(seed, index, start, days, now=now, legacy_ids=legacy_ids)
