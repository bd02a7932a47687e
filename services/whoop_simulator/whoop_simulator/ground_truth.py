"""What each gold table must contain for a simulated user: the oracle for platform tests.

Computed in plain Python from the records the API shows at an instant (post re-score, post
delete), following ``docs/data-model.md`` (day assignment, units, column names). The dbt tests
compare gold against this; nothing here reads the warehouse.

Public API (all pure functions of a :class:`~whoop_simulator.generator.SimUser`):

``expected_gold(user, *, as_of_ms=None, corrupt_rate=0.0) -> dict[str, list[dict]]``
    Keys ``fact_daily_recovery``, ``fact_sleep``, ``fact_strain``, ``fact_workouts`` (rows
    with exactly the gold columns but ``load_timestamp``, which only the loader knows) and
    ``quarantine`` (records that must be quarantined).
    ``as_of_ms`` defaults to ``user.now_ms``; pass the simulator clock when comparing after
    a live run. ``corrupt_rate`` must equal the simulator's ``corrupt_rate`` fault (0 = off).
``quarantined(user, *, as_of_ms=None, corrupt_rate=0.0) -> list[dict]``
    ``{"resource", "record_id", "user_id", "field", "value", "rule"}`` per corrupted record.
``anomaly_days(user) -> list[date]``
    Local wake days inside labelled illness episodes (the anomaly detector's positives).
``events(user) -> list[dict]``
    Every labelled event: ``{"kind", "first_day", "last_day", "details"}``.
``day_of_*`` helpers expose the day-assignment rule itself.

Value conventions: ``*_timestamp`` / ``updated_at`` are naive UTC ``datetime``; ``*_at_local``
are naive local ``datetime`` (UTC + the record's own offset); ``date_key`` is ``int`` YYYYMMDD;
minutes are ``float`` (ms / 60000, not rounded); kcal = kJ / 4.184; absent optional values
are ``None``. Score columns are ``None`` for records that are not ``SCORED``: every sleep
(naps too), workout and cycle is a fact, with its ``score_state``. ``fact_strain`` has one row
per user and day (:func:`strain_day`). ``fact_workouts.sport_name`` is the v2 slug as served;
``activity_type_key`` is the official sport id found by normalising it, −1 when unknown.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from whoop_simulator import sports
from whoop_simulator.corruption import CORRUPTIONS, is_corrupted
from whoop_simulator.generator import SimUser
from whoop_simulator.timeutil import naive_utc, parse_iso, parse_tzd

GOLD_TABLES = ("fact_daily_recovery", "fact_sleep", "fact_strain", "fact_workouts")
KCAL_PER_KJ = 1 / 4.184


def _local(ts: str, offset: str) -> datetime:
    return naive_utc(parse_iso(ts)) + timedelta(minutes=parse_tzd(offset))


def date_key(d: date) -> int:
    """``YYYYMMDD`` integer of a date."""
    return d.year * 10000 + d.month * 100 + d.day


def day_of_sleep(sleep: dict[str, Any]) -> date:
    """A sleep (or nap) belongs to the local date of its ``end`` (the wake day)."""
    return _local(sleep["end"], sleep["timezone_offset"]).date()


def day_of_workout(workout: dict[str, Any]) -> date:
    """A workout belongs to the local date of its ``start``."""
    return _local(workout["start"], workout["timezone_offset"]).date()


def day_of_cycle(cycle: dict[str, Any], main_sleep: dict[str, Any] | None) -> date:
    """Wake day of the cycle's main sleep, else the local date of ``start + 12 h``."""
    if main_sleep is not None:
        return day_of_sleep(main_sleep)
    return (_local(cycle["start"], cycle["timezone_offset"]) + timedelta(hours=12)).date()


def surrogate_key(*parts: object) -> str:
    """``md5('part1|part2|...')`` as lowercase hex: gold's ``recovery_id`` / ``strain_id``."""
    return hashlib.md5("|".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()


def strain_day(cycles: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``fact_strain`` values of one user-day from its cycles (the strain day rule).

    Each cycle is ``{"cycle_id", "has_main_sleep", "minutes" (None while open), "start_ms",
    "score_state", "strain", "kilojoule", "avg_hr", "max_hr"}`` (scores ``None`` unless
    scored). The primary cycle holds the main sleep, else is the longest (open last), else
    starts latest; its strain is the day's (strain is logarithmic, never summed). Energy is
    summed, max HR the max, average HR weighted by the closed cycles' minutes (the primary's
    when no closed cycle has one).
    """
    primary = min(
        cycles,
        key=lambda c: (
            not c["has_main_sleep"],
            c["minutes"] is None,
            -(c["minutes"] or 0.0),
            -c["start_ms"],
            -c["cycle_id"],
        ),
    )
    kj = [c["kilojoule"] for c in cycles if c["kilojoule"] is not None]
    weighted = [
        (c["avg_hr"], c["minutes"])
        for c in cycles
        if c["avg_hr"] is not None and c["minutes"] is not None
    ]
    weight = sum(m for _, m in weighted)
    max_hr = [c["max_hr"] for c in cycles if c["max_hr"] is not None]
    return {
        "primary": primary,
        "cycle_count": len(cycles),
        "day_strain_score": primary["strain"],
        "kilojoule": sum(kj) if kj else None,
        "calories_burned": sum(k * KCAL_PER_KJ for k in kj) if kj else None,
        "avg_heart_rate_bpm": (
            sum(h * m for h, m in weighted) / weight if weight else primary["avg_hr"]
        ),
        "max_heart_rate_bpm": max(max_hr) if max_hr else None,
    }


def _minutes(ms: int | None) -> float | None:
    return None if ms is None else ms / 60000


def _band(score: float) -> str:
    if score < 34:
        return "red"
    if score < 67:
        return "yellow"
    return "green"


def quarantined(
    user: SimUser, *, as_of_ms: int | None = None, corrupt_rate: float = 0.0
) -> list[dict[str, Any]]:
    """Records the simulator serves out of range at ``corrupt_rate``: gold must not hold them."""
    out: list[dict[str, Any]] = []
    if corrupt_rate <= 0:
        return out
    for resource, (field, value, rule) in CORRUPTIONS.items():
        for rec in user.records(resource, as_of_ms):  # type: ignore[arg-type]
            key = str(rec["cycle_id"] if resource == "recovery" else rec["id"])
            if "score" in rec and is_corrupted(user.seed, resource, key, corrupt_rate):
                out.append(
                    {
                        "resource": resource,
                        "record_id": key,
                        "user_id": user.user_id,
                        "field": field,
                        "value": value,
                        "rule": rule,
                    }
                )
    return out


def expected_gold(
    user: SimUser, *, as_of_ms: int | None = None, corrupt_rate: float = 0.0
) -> dict[str, list[dict[str, Any]]]:
    """Every gold fact row for ``user`` as of ``as_of_ms``; see the module docstring."""
    bad = quarantined(user, as_of_ms=as_of_ms, corrupt_rate=corrupt_rate)
    bad_keys = {(b["resource"], b["record_id"]) for b in bad}
    sleeps = user.records("sleep", as_of_ms)
    sleep_by_id = {s["id"]: s for s in sleeps}
    main_sleep_by_cycle = {s["cycle_id"]: s for s in sleeps if not s["nap"]}
    uk = user.user_id

    recovery_rows: list[dict[str, Any]] = []
    for r in user.records("recovery", as_of_ms):
        sleep = sleep_by_id.get(r["sleep_id"])
        if r["score_state"] != "SCORED" or sleep is None:
            continue
        if ("recovery", str(r["cycle_id"])) in bad_keys:
            continue
        sc = r["score"]
        recovery_rows.append(
            {
                "recovery_id": surrogate_key("recovery", r["cycle_id"]),
                "user_key": uk,
                "date_key": date_key(day_of_sleep(sleep)),
                "cycle_id": r["cycle_id"],
                "sleep_id": r["sleep_id"],
                "recovery_score": sc["recovery_score"],
                "recovery_band": _band(sc["recovery_score"]),
                "hrv_rmssd_ms": sc["hrv_rmssd_milli"],
                "resting_heart_rate_bpm": sc["resting_heart_rate"],
                "spo2_percentage": sc.get("spo2_percentage"),
                "skin_temp_celsius": sc.get("skin_temp_celsius"),
                "user_calibrating": sc["user_calibrating"],
                "updated_at": naive_utc(parse_iso(r["updated_at"])),
            }
        )

    sleep_rows: list[dict[str, Any]] = []
    for s in sleeps:
        if ("sleep", s["id"]) in bad_keys:
            continue
        sc = s.get("score") if s["score_state"] == "SCORED" else None
        st = sc["stage_summary"] if sc else {}
        need = sc["sleep_needed"] if sc else {}
        sleep_rows.append(
            {
                "sleep_id": s["id"],
                "user_key": uk,
                "date_key": date_key(day_of_sleep(s)),
                "cycle_id": s["cycle_id"],
                "is_nap": s["nap"],
                "score_state": s["score_state"],
                "sleep_start_timestamp": naive_utc(parse_iso(s["start"])),
                "sleep_end_timestamp": naive_utc(parse_iso(s["end"])),
                "start_at_local": _local(s["start"], s["timezone_offset"]),
                "end_at_local": _local(s["end"], s["timezone_offset"]),
                "timezone_offset": s["timezone_offset"],
                "in_bed_minutes": _minutes(st.get("total_in_bed_time_milli")),
                "awake_minutes": _minutes(st.get("total_awake_time_milli")),
                "light_sleep_minutes": _minutes(st.get("total_light_sleep_time_milli")),
                "deep_sleep_minutes": _minutes(st.get("total_slow_wave_sleep_time_milli")),
                "rem_sleep_minutes": _minutes(st.get("total_rem_sleep_time_milli")),
                "no_data_minutes": _minutes(st.get("total_no_data_time_milli")),
                "total_sleep_minutes": (
                    (
                        st["total_light_sleep_time_milli"]
                        + st["total_slow_wave_sleep_time_milli"]
                        + st["total_rem_sleep_time_milli"]
                    )
                    / 60000
                    if sc
                    else None
                ),
                "sleep_efficiency_pct": sc.get("sleep_efficiency_percentage") if sc else None,
                "sleep_performance_pct": sc.get("sleep_performance_percentage") if sc else None,
                "sleep_consistency_pct": sc.get("sleep_consistency_percentage") if sc else None,
                "respiratory_rate": sc.get("respiratory_rate") if sc else None,
                "disturbance_count": st.get("disturbance_count"),
                "sleep_cycle_count": st.get("sleep_cycle_count"),
                "sleep_needed_minutes": (
                    (
                        need["baseline_milli"]
                        + need["need_from_sleep_debt_milli"]
                        + need["need_from_recent_strain_milli"]
                        + need["need_from_recent_nap_milli"]
                    )
                    / 60000
                    if sc
                    else None
                ),
                "sleep_debt_minutes": need["need_from_sleep_debt_milli"] / 60000 if sc else None,
                "updated_at": naive_utc(parse_iso(s["updated_at"])),
            }
        )

    days: dict[int, list[dict[str, Any]]] = {}
    for c in user.records("cycle", as_of_ms):
        if ("cycle", str(c["id"])) in bad_keys:
            continue
        sc = c.get("score") if c["score_state"] == "SCORED" else None
        main = main_sleep_by_cycle.get(c["id"])
        start_ms = parse_iso(c["start"])
        end_ms = parse_iso(c["end"]) if c.get("end") else None
        days.setdefault(date_key(day_of_cycle(c, main)), []).append(
            {
                "cycle_id": c["id"],
                "has_main_sleep": main is not None,
                "minutes": (end_ms - start_ms) / 60000 if end_ms is not None else None,
                "start_ms": start_ms,
                "end_ms": end_ms,
                "timezone_offset": c["timezone_offset"],
                "score_state": c["score_state"],
                "strain": sc["strain"] if sc else None,
                "kilojoule": sc["kilojoule"] if sc else None,
                "avg_hr": sc["average_heart_rate"] if sc else None,
                "max_hr": sc["max_heart_rate"] if sc else None,
                "updated_at": naive_utc(parse_iso(c["updated_at"])),
            }
        )
    strain_rows: list[dict[str, Any]] = []
    for dk, day_cycles in sorted(days.items()):
        day = strain_day(day_cycles)
        primary = day["primary"]
        strain_rows.append(
            {
                "strain_id": surrogate_key("strain", uk, dk),
                "user_key": uk,
                "date_key": dk,
                "cycle_id": primary["cycle_id"],
                "cycle_count": day["cycle_count"],
                "cycle_start_timestamp": naive_utc(primary["start_ms"]),
                "cycle_end_timestamp": (
                    naive_utc(primary["end_ms"]) if primary["end_ms"] is not None else None
                ),
                "is_open": primary["end_ms"] is None,
                "timezone_offset": primary["timezone_offset"],
                "score_state": primary["score_state"],
                "day_strain_score": day["day_strain_score"],
                "kilojoule": day["kilojoule"],
                "calories_burned": day["calories_burned"],
                "avg_heart_rate_bpm": day["avg_heart_rate_bpm"],
                "max_heart_rate_bpm": day["max_heart_rate_bpm"],
                "updated_at": max(c["updated_at"] for c in day_cycles),
            }
        )

    workout_rows: list[dict[str, Any]] = []
    for w in user.records("workout", as_of_ms):
        if ("workout", w["id"]) in bad_keys:
            continue
        sc = w.get("score") if w["score_state"] == "SCORED" else None
        z = sc["zone_durations"] if sc else None
        start_ms, end_ms = parse_iso(w["start"]), parse_iso(w["end"])
        workout_rows.append(
            {
                "workout_id": w["id"],
                "user_key": uk,
                "date_key": date_key(day_of_workout(w)),
                "activity_type_key": sports.sport_id_for_name(w["sport_name"]),
                "sport_name": w["sport_name"],
                "score_state": w["score_state"],
                "workout_start_timestamp": naive_utc(start_ms),
                "workout_end_timestamp": naive_utc(end_ms),
                "duration_minutes": (end_ms - start_ms) / 60000,
                "strain_score": sc["strain"] if sc else None,
                "avg_heart_rate_bpm": sc["average_heart_rate"] if sc else None,
                "max_heart_rate_bpm": sc["max_heart_rate"] if sc else None,
                "kilojoule": sc["kilojoule"] if sc else None,
                "calories_burned": sc["kilojoule"] * KCAL_PER_KJ if sc else None,
                "percent_recorded": sc["percent_recorded"] if sc else None,
                "distance_meters": sc.get("distance_meter") if sc else None,
                "altitude_gain_meters": sc.get("altitude_gain_meter") if sc else None,
                "altitude_change_meters": sc.get("altitude_change_meter") if sc else None,
                "zone_zero_minutes": z["zone_zero_milli"] / 60000 if z else None,
                "zone_duration_minutes": (
                    [z[f"zone_{n}_milli"] / 60000 for n in ("one", "two", "three", "four", "five")]
                    if z
                    else None
                ),
                "updated_at": naive_utc(parse_iso(w["updated_at"])),
            }
        )

    return {
        "fact_daily_recovery": recovery_rows,
        "fact_sleep": sleep_rows,
        "fact_strain": strain_rows,
        "fact_workouts": workout_rows,
        "quarantine": bad,
    }


def anomaly_days(user: SimUser) -> list[date]:
    """Local wake days inside labelled illness episodes, ascending."""
    days: set[date] = set()
    for ev in user.events:
        if ev.kind == "illness":
            d = ev.first_day
            while d <= ev.last_day:
                days.add(d)
                d += timedelta(days=1)
    return sorted(days)


def events(user: SimUser) -> list[dict[str, Any]]:
    """All labelled events as plain dicts (JSON-friendly apart from the dates)."""
    return [
        {"kind": e.kind, "first_day": e.first_day, "last_day": e.last_day, "details": e.details}
        for e in user.events
    ]
