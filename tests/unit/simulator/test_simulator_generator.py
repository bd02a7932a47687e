"""Generator: determinism, v2 schema conformance, invariants, labelled events, calibration."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from whoop_simulator import schemas
from whoop_simulator.generator import SimUser, generate_user, iter_users
from whoop_simulator.sports import load_sports, sport_id_for_name
from whoop_simulator.timeutil import parse_iso, parse_tzd

START = date(2023, 1, 1)
YEARS2 = 730


@pytest.fixture(scope="module")
def users() -> list[SimUser]:
    return list(iter_users(7, 4, START, YEARS2))


def test_same_seed_same_records() -> None:
    a = generate_user(11, 2, START, 120)
    b = generate_user(11, 2, START, 120)
    for res in ("cycles", "sleeps", "recoveries", "workouts"):
        assert json.dumps(getattr(a, res)) == json.dumps(getattr(b, res))
    assert a.events == b.events and a.profile == b.profile


def test_user_is_independent_of_other_users_and_seed_matters() -> None:
    alone = generate_user(11, 3, START, 60)
    in_batch = list(iter_users(11, 4, START, 60))[3]
    assert json.dumps(alone.sleeps) == json.dumps(in_batch.sleeps)
    assert json.dumps(generate_user(12, 3, START, 60).sleeps) != json.dumps(alone.sleeps)


def test_every_record_matches_the_v2_schema(users: list[SimUser]) -> None:
    u = users[0]
    models: dict[str, type[BaseModel]] = {
        "cycle": schemas.Cycle,
        "sleep": schemas.Sleep,
        "recovery": schemas.Recovery,
        "workout": schemas.WorkoutV2,
    }
    for res, model in models.items():
        for tl in u.timelines[res]:  # type: ignore[index]
            for v in tl.versions:
                model.model_validate(v.record)
                assert ("score" in v.record) == (v.record["score_state"] == "SCORED")
    schemas.UserBasicProfile.model_validate(u.profile)


def test_ids_and_links(users: list[SimUser]) -> None:
    u = users[1]
    cycle_ids = [c["id"] for c in u.cycles]
    assert len(set(cycle_ids)) == len(cycle_ids)
    assert all(isinstance(i, int) for i in cycle_ids)
    sleeps = {s["id"]: s for s in u.sleeps}
    for r in u.recoveries:
        s = sleeps[r["sleep_id"]]
        assert s["cycle_id"] == r["cycle_id"] and not s["nap"]
    ids = [s["id"] for s in u.sleeps] + [w["id"] for w in u.workouts]
    assert len(set(ids)) == len(ids)
    # All other users have disjoint ids.
    other = {c["id"] for c in users[2].cycles}
    assert not other & set(cycle_ids)


def test_cycles_chain_and_only_the_last_is_open(users: list[SimUser]) -> None:
    cycles = users[0].cycles
    assert "end" not in cycles[-1]
    for a, b in zip(cycles, cycles[1:], strict=False):
        assert a["end"] == b["start"]
        assert parse_iso(a["start"]) < parse_iso(a["end"])


def test_sleep_invariants(users: list[SimUser]) -> None:
    for s in users[0].sleeps:
        if s["score_state"] != "SCORED":
            continue
        st = s["score"]["stage_summary"]
        parts = (
            st["total_awake_time_milli"]
            + st["total_no_data_time_milli"]
            + st["total_light_sleep_time_milli"]
            + st["total_slow_wave_sleep_time_milli"]
            + st["total_rem_sleep_time_milli"]
        )
        assert parts <= st["total_in_bed_time_milli"] + 60_000
        assert st["total_in_bed_time_milli"] == parse_iso(s["end"]) - parse_iso(s["start"])
        assert s["score"]["sleep_needed"]["need_from_recent_nap_milli"] <= 0
        if s["nap"]:
            assert "sleep_consistency_percentage" not in s["score"]


def test_workouts_use_official_sports_and_gps_only_where_it_exists(users: list[SimUser]) -> None:
    official = set(load_sports())
    seen_unknown = 0
    for u in users:
        for w in u.workouts:
            sid = sport_id_for_name(w["sport_name"])
            assert w["sport_name"] == w["sport_name"].lower()
            if sid == -1:
                seen_unknown += 1
            else:
                assert sid in official
                if "sport_id" in w:
                    assert w["sport_id"] == sid
            if "score" in w and "distance_meter" in w["score"]:
                assert sid in (0, 1, 18, 29, 33, 47, 49, 52, 55, 57, 61, 62, 63, 89, 91, 102,
                               105, 239, 252, 253, 266)  # fmt: skip
            if "score" in w:
                z = w["score"]["zone_durations"]
                total = sum(z.values())
                assert total <= parse_iso(w["end"]) - parse_iso(w["start"])


def test_labelled_events_are_present(users: list[SimUser]) -> None:
    kinds = {e.kind for u in users for e in u.events}
    assert {"illness", "travel", "non_wear", "nap", "rescore", "delete"} <= kinds


def test_travel_changes_timezone_offset_mid_history(users: list[SimUser]) -> None:
    u = users[0]
    offsets = [parse_tzd(c["timezone_offset"]) for c in u.cycles]
    changes = sum(1 for a, b in zip(offsets, offsets[1:], strict=False) if a != b)
    assert changes >= 4  # real people: ~9.6 changes a year


def test_illness_moves_hrv_rhr_skin_temp_and_resp_rate(users: list[SimUser]) -> None:
    from whoop_simulator.ground_truth import anomaly_days, day_of_sleep

    diffs = []
    for u in users:
        ill = set(anomaly_days(u))
        if not ill:
            continue
        sleeps = {s["id"]: s for s in u.sleeps}
        rows = [
            (
                day_of_sleep(sleeps[r["sleep_id"]]) in ill,
                {
                    "hrv": r["score"]["hrv_rmssd_milli"],
                    "rhr": r["score"]["resting_heart_rate"],
                    "resp": sleeps[r["sleep_id"]]["score"]["respiratory_rate"],
                },
            )
            for r in u.recoveries
            if r["score_state"] == "SCORED" and sleeps[r["sleep_id"]]["score_state"] == "SCORED"
        ]

        def mean(flag: bool, field: str, rows: list[Any] = rows) -> float:
            return float(np.mean([v[field] for i, v in rows if i == flag]))

        diffs.append(
            (
                mean(True, "hrv") / mean(False, "hrv"),
                mean(True, "rhr") - mean(False, "rhr"),
                mean(True, "resp") - mean(False, "resp"),
            )
        )
    assert diffs
    for hrv_ratio, rhr_up, resp_up in diffs:  # every user moves the right way...
        assert hrv_ratio < 1 and rhr_up > 0 and resp_up > 0
    hrv_ratio, rhr_up, resp_up = np.mean(diffs, axis=0)  # ...and clearly so on average
    assert hrv_ratio < 0.85 and rhr_up > 3 and resp_up > 0.8


def test_non_wear_leaves_cycles_without_sleep(users: list[SimUser]) -> None:
    total = with_sleep = 0
    for u in users:
        main = {s["cycle_id"] for s in u.sleeps if not s["nap"]}
        total += len(u.cycles)
        with_sleep += sum(1 for c in u.cycles if c["id"] in main)
    assert 0.005 < 1 - with_sleep / total < 0.1


def test_some_users_lack_spo2_and_skin_temp() -> None:
    flags = [
        "spo2_percentage" in generate_user(3, i, START, 20).recoveries[-1]["score"]
        for i in range(30)
    ]
    assert any(flags) and not all(flags)


def _series(u: SimUser) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float]]]:
    recs = {r["cycle_id"]: r["score"] for r in u.recoveries if r["score_state"] == "SCORED"}
    cycles = u.cycles
    ids = [c["id"] for c in cycles if c["id"] in recs]
    rec = np.array([recs[i]["recovery_score"] for i in ids])
    hrv = np.array([recs[i]["hrv_rmssd_milli"] for i in ids])
    rhr = np.array([recs[i]["resting_heart_rate"] for i in ids])
    pairs = [
        (prev["score"]["strain"], recs[cur["id"]]["recovery_score"])
        for prev, cur in zip(cycles, cycles[1:], strict=False)
        if cur["id"] in recs and "score" in prev
    ]
    return rec, hrv, rhr, pairs


def test_calibration_against_real_data_profile(users: list[SimUser]) -> None:
    stats = []
    for u in users:
        rec, hrv, rhr, pairs = _series(u)
        p = np.array(pairs)
        m7 = np.array([rec[i - 7 : i].mean() for i in range(7, len(rec))])
        stats.append(
            {
                "mean": rec.mean(),
                "sd": rec.std(),
                "ac1": np.corrcoef(rec[:-1], rec[1:])[0, 1],
                "r_hrv": np.corrcoef(rec, hrv)[0, 1],
                "r_rhr": np.corrcoef(rec, rhr)[0, 1],
                "r_strain_next": np.corrcoef(p[:, 0], p[:, 1])[0, 1],
                "mae7": np.abs(m7 - rec[7:]).mean(),
                "persist": np.abs(rec[1:] - rec[:-1]).mean(),
            }
        )
    avg = {k: float(np.mean([s[k] for s in stats])) for k in stats[0]}
    assert 50 <= avg["mean"] <= 66
    assert 18 <= avg["sd"] <= 25
    assert -0.05 <= avg["ac1"] <= 0.35
    assert 0.65 <= avg["r_hrv"] <= 0.9
    assert -0.8 <= avg["r_rhr"] <= -0.5
    assert -0.45 <= avg["r_strain_next"] <= -0.15
    assert 14 <= avg["mae7"] <= 24
    assert avg["persist"] > avg["mae7"]  # persistence is the worse naive baseline, as on real data


def test_sleep_and_workout_calibration(users: list[SimUser]) -> None:
    asleep, eff, deep, rem, resp, per_week, dur, strain = [], [], [], [], [], [], [], []
    for u in users:
        for s in u.sleeps:
            if s["nap"] or s["score_state"] != "SCORED":
                continue
            st = s["score"]["stage_summary"]
            a = (
                st["total_light_sleep_time_milli"]
                + st["total_slow_wave_sleep_time_milli"]
                + st["total_rem_sleep_time_milli"]
            )
            asleep.append(a / 60000)
            eff.append(s["score"]["sleep_efficiency_percentage"])
            deep.append(st["total_slow_wave_sleep_time_milli"] / a)
            rem.append(st["total_rem_sleep_time_milli"] / a)
            resp.append(s["score"]["respiratory_rate"])
        per_week.append(len(u.workouts) / (YEARS2 / 7))
        for w in u.workouts:
            if "score" in w:
                dur.append((parse_iso(w["end"]) - parse_iso(w["start"])) / 60000)
                strain.append(w["score"]["strain"])
    assert 380 <= np.mean(asleep) <= 460
    assert 84 <= np.mean(eff) <= 93
    assert 0.19 <= np.mean(deep) <= 0.25 and 0.2 <= np.mean(rem) <= 0.28
    assert 14.5 <= np.mean(resp) <= 17
    assert 3 <= np.mean(per_week) <= 8 and 40 <= np.mean(dur) <= 80 and 6 <= np.mean(strain) <= 12
    for u in users:
        strains = [c["score"]["strain"] for c in u.cycles if "score" in c]
        assert 0 <= min(strains) and max(strains) <= 21


def test_records_appear_over_time() -> None:
    u = generate_user(5, 0, START, 30)
    early = u.records("sleep", parse_iso("2023-01-15T00:00:00.000Z"))
    assert 0 < len(early) < len(u.sleeps)
    assert u.start + timedelta(days=29) == date(2023, 1, 30)
