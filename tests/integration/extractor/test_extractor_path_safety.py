"""A hostile record id never becomes a WHOOP request outside ``/v2/...``.

The reported attack: a signed webhook with id ``../../../../etc/passwd`` made the extractor
send ``GET /etc/passwd`` to the WHOOP host with the user's bearer token (httpx resolves dot
segments). Three layers now stop it: the contract refuses the id (the message dead-letters),
``ResourceSpec.by_id_path`` re-checks and quotes it, and ``WhoopClient`` refuses any path that
does not stay under ``/v2/`` after normalisation, before a token is read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from extractor_harness import Harness, make_harness
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.domain.resources import SPECS
from shared.adapters.bus.local import LocalBus
from shared.contracts import Resource, Topic, WebhookEventType, WebhookReceived
from shared.contracts.messages import InvalidRecordId
from shared.ports import OutgoingMessage
from shared.whoop_client import UnsafeWhoopPath, WhoopClient, v2_path

TRAVERSAL = "../../../../etc/passwd"


def _hostile_event(user_id: int, record_id: str) -> WebhookReceived:
    """What a producer that skipped validation would send (``model_construct`` skips it)."""
    return WebhookReceived.model_construct(
        user_id=user_id,
        event_type=WebhookEventType.SLEEP_UPDATED,
        record_id=record_id,
        whoop_trace_id="trace-evil",
        received_at=datetime.now(UTC),
        schema_version=1,
    )


async def test_traversal_id_on_the_bus_is_dead_lettered_without_a_request(tmp_path: Path) -> None:
    h, _ = await make_harness(tmp_path)
    bus = LocalBus(tmp_path / "bus.sqlite3")
    try:
        await bus.ensure_topology()
        h.app.bus = bus
        h.app.extractor.bus = bus
        body = _hostile_event(h.user_id, TRAVERSAL).model_dump_json().encode()
        props = {"message_type": "WebhookReceived", "schema_version": 1}
        await bus.publish(
            Topic.WEBHOOK_RECEIVED.value, [OutgoingMessage(body=body, application_properties=props)]
        )
        consumer = next(c for c in h.app.consumers() if c.topic is Topic.WEBHOOK_RECEIVED)
        received = await bus.receive(Topic.WEBHOOK_RECEIVED.value, "extractor", max_wait_s=1.0)
        await consumer.process(received)

        assert consumer.dead_lettered == 1
        [dead] = await bus.list_dead_letters(Topic.WEBHOOK_RECEIVED.value, "extractor")
        assert "UUID" in (dead.description or "") + (dead.reason or "")
        assert h.requests == []
    finally:
        await bus.close()
        await h.app.close()
        await h.http.aclose()


async def test_handler_refuses_a_traversal_id_even_past_the_contract(harness: Harness) -> None:
    with pytest.raises(InvalidRecordId):
        await harness.app.extractor.handle_webhook(_hostile_event(harness.user_id, TRAVERSAL))
    assert harness.requests == []


@pytest.mark.parametrize(
    "path",
    [
        "/v2/activity/sleep/../../../../etc/passwd",
        "/v2/activity/sleep/..%2F..%2F..%2Fetc%2Fpasswd/..",
        "/v2/./cycle",
        "//evil.example/v2/cycle",
        "@evil.example/v2/cycle",
        "/v1/activity-mapping/1",
        "/oauth/oauth2/token",
    ],
)
async def test_client_refuses_paths_outside_v2_before_any_request(
    harness: Harness, path: str
) -> None:
    client: WhoopClient = harness.app.extractor.client
    with pytest.raises(UnsafeWhoopPath):
        await client.get_json(path, user_id=harness.user_id)
    assert harness.requests == []


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.sampled_from(["..", ".", "%2e%2e", "a/../..", "?x", "#"]))
def test_any_id_is_one_segment_under_its_collection_or_refused(record_id: str) -> None:
    base = "https://api.prod.whoop.com/developer"
    try:
        path = v2_path("activity", "sleep", record_id)
    except UnsafeWhoopPath:
        assert record_id in ("", ".", "..")
        return
    url = httpx.Request("GET", base + path).url
    raw = url.raw_path.decode()
    assert url.host == "api.prod.whoop.com" and url.query == b""
    assert raw.startswith("/developer/v2/activity/sleep/")
    assert "/" not in raw.removeprefix("/developer/v2/activity/sleep/")
    # the spec layer only lets WHOOP ids through at all
    try:
        SPECS[Resource.SLEEP].by_id_path(record_id)
    except InvalidRecordId:
        return
    assert len(record_id) == 36 and json.dumps(record_id) == f'"{record_id}"'
