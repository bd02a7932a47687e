"""Paging and filters: complete walks, newest first, start inclusive / end exclusive, 400/404."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import authorize, bearer
from fastapi.testclient import TestClient

from whoop_simulator.timeutil import parse_iso

PATHS = ["/v2/cycle", "/v2/activity/sleep", "/v2/activity/workout", "/v2/recovery"]


def _walk(c: TestClient, h: dict[str, str], path: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(200):
        r = c.get("/developer" + path, headers=h, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["records"]) <= params.get("limit", 10)
        out.extend(page["records"])
        if not page.get("next_token"):
            return out
        params["nextToken"] = page["next_token"]
    raise AssertionError("paging did not end")


def _key(path: str, rec: dict[str, Any]) -> Any:
    return rec["cycle_id"] if path == "/v2/recovery" else rec["id"]


@pytest.mark.parametrize("path", PATHS)
def test_walk_all_pages_without_dupes_or_gaps(shared_client: TestClient, path: str) -> None:
    h = bearer(authorize(shared_client))
    small = _walk(shared_client, h, path, limit=7)
    big = _walk(shared_client, h, path, limit=25)
    keys = [_key(path, r) for r in small]
    assert len(keys) == len(set(keys)) and keys == [_key(path, r) for r in big]
    default = shared_client.get("/developer" + path, headers=h).json()
    assert len(default["records"]) == 10
    if path != "/v2/recovery":
        starts = [parse_iso(r["start"]) for r in small]
        assert starts == sorted(starts, reverse=True)


def test_recoveries_are_ordered_by_their_sleep_start(shared_client: TestClient) -> None:
    h = bearer(authorize(shared_client))
    sleeps = {s["id"]: s for s in _walk(shared_client, h, "/v2/activity/sleep", limit=25)}
    recs = _walk(shared_client, h, "/v2/recovery", limit=25)
    starts = [parse_iso(sleeps[r["sleep_id"]]["start"]) for r in recs]
    assert starts == sorted(starts, reverse=True)


def test_start_inclusive_end_exclusive_with_overlap(shared_client: TestClient) -> None:
    h = bearer(authorize(shared_client))
    cycles = _walk(shared_client, h, "/v2/cycle", limit=25)
    c = cycles[10]  # a closed cycle
    s, e = c["start"], c["end"]
    # [start, end) of exactly one cycle: neighbours touching either bound are left out.
    window = [r["id"] for r in _walk(shared_client, h, "/v2/cycle", start=s, end=e, limit=25)]
    assert window == [c["id"]]
    # end == c.start excludes c (exclusive); start == c.end excludes c (it has finished).
    assert c["id"] not in {r["id"] for r in _walk(shared_client, h, "/v2/cycle", end=s, limit=25)}
    after = {r["id"] for r in _walk(shared_client, h, "/v2/cycle", start=e, limit=25)}
    assert c["id"] not in after and cycles[9]["id"] in after
    # A window strictly inside c returns c (under way at start, intersects end).
    inner_s = s[:-4] + "999Z"
    inner = _walk(shared_client, h, "/v2/cycle", start=inner_s, end=e, limit=25)
    assert [r["id"] for r in inner] == [c["id"]]
    # The open cycle is under way at any start after its own start.
    assert _walk(shared_client, h, "/v2/cycle", start="2025-03-12T11:00:00.000Z")[0] == cycles[0]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "26"}, 400),
        ({"limit": "0"}, 400),
        ({"limit": "abc"}, 400),
        ({"start": "yesterday"}, 400),
        ({"end": "2025-03-01"}, 400),
        ({"nextToken": "!!!"}, 400),
        ({"limit": "25"}, 200),
        ({"start": "2025-03-01T00:00:00+02:00"}, 200),
    ],
)
def test_bad_parameters_are_400(
    shared_client: TestClient, params: dict[str, str], status: int
) -> None:
    h = bearer(authorize(shared_client))
    assert shared_client.get("/developer/v2/cycle", headers=h, params=params).status_code == status


def test_ids_malformed_unknown_and_other_users(shared_client: TestClient) -> None:
    mine = bearer(authorize(shared_client, user_id=10100))
    theirs = bearer(authorize(shared_client, user_id=10101))
    sleep = shared_client.get("/developer/v2/activity/sleep", headers=theirs).json()["records"][0]
    cycle = shared_client.get("/developer/v2/cycle", headers=theirs).json()["records"][0]
    g = shared_client.get
    assert g(f"/developer/v2/activity/sleep/{sleep['id']}", headers=mine).status_code == 404
    assert g(f"/developer/v2/cycle/{cycle['id']}", headers=mine).status_code == 404
    assert g(f"/developer/v2/cycle/{cycle['id']}/recovery", headers=mine).status_code == 404
    assert g("/developer/v2/activity/sleep/not-a-uuid", headers=mine).status_code == 400
    assert g("/developer/v2/activity/workout/1234", headers=mine).status_code == 400
    assert g("/developer/v2/cycle/abc", headers=mine).status_code == 400
    assert g("/developer/v2/cycle/42", headers=mine).status_code == 404
    assert g("/developer/v1/activity-mapping/1", headers=mine).status_code == 404
    assert g("/developer/v2/recovery/" + sleep["id"], headers=theirs).status_code == 404
