"""Contract: every endpoint's response and the reference's §8 examples fit the v2 schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, NOW, authorize, bearer, make_config
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from whoop_simulator import schemas
from whoop_simulator.generator import generate_user
from whoop_simulator.timeutil import to_ms

# The example payloads of the API reference §8 (and the §9.2 webhook body), verbatim.
EXAMPLES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (getattr(schemas, e["schema"]), e["payload"])
    for e in json.loads((Path(__file__).parent / "reference_examples.json").read_text())
]


@pytest.mark.parametrize(("model", "payload"), EXAMPLES)
def test_reference_examples_validate(model: type[BaseModel], payload: dict[str, Any]) -> None:
    model.model_validate(payload)


def test_schemas_reject_wrong_shapes() -> None:
    with pytest.raises(ValidationError):
        schemas.Cycle.model_validate({**EXAMPLES[2][1], "id": "1187654321"})  # string id
    with pytest.raises(ValidationError):
        schemas.Sleep.model_validate({**EXAMPLES[3][1], "start": "2025-03-11T04:12:33Z"})  # no ms
    with pytest.raises(ValidationError):
        schemas.WorkoutV2.model_validate({**EXAMPLES[5][1], "surprise": 1})
    with pytest.raises(ValidationError):
        schemas.Recovery.model_validate({**EXAMPLES[4][1], "score_state": "PENDING_SCORE"})


def _get(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    r = client.get("/developer" + path, headers=headers, params=params)
    assert r.status_code == 200, (path, r.text)
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def test_every_endpoint_response_matches_its_schema(shared_client: TestClient) -> None:
    h = bearer(authorize(shared_client))
    schemas.UserBasicProfile.model_validate(_get(shared_client, h, "/v2/user/profile/basic"))
    body = shared_client.get("/developer/v2/user/measurement/body", headers=h)
    if body.status_code == 200:
        schemas.UserBodyMeasurement.model_validate(body.json())
    else:
        assert body.status_code == 404
    cycles = schemas.PaginatedCycleResponse.model_validate(
        _get(shared_client, h, "/v2/cycle", limit=25)
    )
    sleeps = schemas.PaginatedSleepResponse.model_validate(
        _get(shared_client, h, "/v2/activity/sleep", limit=25)
    )
    recs = schemas.RecoveryCollection.model_validate(
        _get(shared_client, h, "/v2/recovery", limit=25)
    )
    works = schemas.WorkoutCollection.model_validate(
        _get(shared_client, h, "/v2/activity/workout", limit=25)
    )
    assert cycles.records and sleeps.records and recs.records and works.records
    assert cycles.records[0].end is None  # the current cycle is open
    c = cycles.records[3]
    schemas.Cycle.model_validate(_get(shared_client, h, f"/v2/cycle/{c.id}"))
    main = next(s for s in sleeps.records if not s.nap and s.score_state == "SCORED")
    schemas.Sleep.model_validate(_get(shared_client, h, f"/v2/cycle/{main.cycle_id}/sleep"))
    schemas.Recovery.model_validate(_get(shared_client, h, f"/v2/cycle/{main.cycle_id}/recovery"))
    schemas.Sleep.model_validate(_get(shared_client, h, f"/v2/activity/sleep/{main.id}"))
    schemas.WorkoutV2.model_validate(
        _get(shared_client, h, f"/v2/activity/workout/{works.records[0].id}")
    )
    legacy = next(s for s in sleeps.records if s.v1_id is not None)
    mapping = _get(shared_client, h, f"/v1/activity-mapping/{legacy.v1_id}")
    assert schemas.ActivityIdMapping.model_validate(mapping).v2_activity_id == legacy.id
    # Raw JSON omits absent optionals rather than sending nulls.
    raw = _get(shared_client, h, "/v2/cycle", limit=1)["records"][0]
    assert "end" not in raw and None not in raw.values()


def test_score_only_when_scored_and_pending_is_served(
    client_factory: Callable[..., TestClient],
) -> None:
    cfg = make_config()
    user = generate_user(cfg.seed, 0, cfg.start_date(), cfg.total_days(), now=NOW)
    day0 = to_ms(NOW.replace(hour=0))
    tl = next(t for t in user.timelines["sleep"] if day0 < t.versions[0].visible_ms < to_ms(NOW))
    pending_at = datetime.fromtimestamp((tl.versions[0].visible_ms + 1500) / 1000, UTC)
    c = client_factory(now=pending_at)
    h = bearer(authorize(c))
    seen = set()
    for path in ("/v2/cycle", "/v2/activity/sleep", "/v2/activity/workout", "/v2/recovery"):
        params: dict[str, Any] = {"limit": 25}
        while True:
            page = _get(c, h, path, **params)
            for rec in page["records"]:
                seen.add(rec["score_state"])
                assert ("score" in rec) == (rec["score_state"] == "SCORED")
            if not page.get("next_token"):
                break
            params["nextToken"] = page["next_token"]
    assert {"SCORED", "PENDING_SCORE"} <= seen
    pending = _get(c, h, f"/v2/activity/sleep/{tl.key}")
    assert pending["score_state"] == "PENDING_SCORE" and "score" not in pending
    # Time moves on: the same sleep is now scored, with a later updated_at.
    c.post("/admin/time/advance", json={"hours": 1}, headers=ADMIN)
    scored = _get(c, h, f"/v2/activity/sleep/{tl.key}")
    assert scored["score_state"] in ("SCORED", "UNSCORABLE")
    assert scored["updated_at"] > pending["updated_at"]


def test_same_seed_same_api_answers() -> None:
    from whoop_simulator.app import create_app

    pages = []
    for _ in range(2):
        c = TestClient(create_app(make_config(seed=9)))
        h = bearer(authorize(c))
        pages.append(
            [
                c.get("/developer" + p, headers=h, params={"limit": 25}).json()
                for p in ("/v2/cycle", "/v2/activity/sleep", "/v2/recovery", "/v2/activity/workout")
            ]
        )
    assert pages[0] == pages[1]
    other = TestClient(create_app(make_config(seed=10)))
    h = bearer(authorize(other))
    assert other.get("/developer/v2/cycle", headers=h, params={"limit": 25}).json() != pages[0][0]
