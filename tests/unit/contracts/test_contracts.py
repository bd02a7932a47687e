"""The contract module is the single truth: payloads round-trip and bad input is terminal."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.contracts import (
    SCHEMA_VERSION,
    SUBSCRIPTIONS,
    BronzeLoaded,
    SyncRequested,
    Topic,
    WebhookEventType,
    WebhookReceived,
    decode,
    encode,
    message_type_for_topic,
)
from shared.contracts.topics import subscription
from shared.errors import ContractError, TerminalError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


def _webhook() -> WebhookReceived:
    return WebhookReceived(
        user_id=10129,
        event_type=WebhookEventType.RECOVERY_UPDATED,
        record_id="ecfc6a15-4661-442f-a9a4-f160dd7afae8",
        whoop_trace_id="d3709ee7-104e-4f70-a928-2932964b017b",
        received_at=NOW,
    )


def test_round_trip_keeps_payload_and_sets_properties() -> None:
    msg = _webhook()
    body, props = encode(msg)
    assert props == {
        "message_type": "WebhookReceived",
        "schema_version": SCHEMA_VERSION,
        "user_id": "10129",
    }
    assert decode(Topic.WEBHOOK_RECEIVED, body, props) == msg


def test_fan_out_messages_have_no_partition_key() -> None:
    loaded = BronzeLoaded(
        batch_id="b1", files=("a",), rows_by_resource={"sleep": 3}, user_ids=(1, 2), loaded_at=NOW
    )
    _, props = encode(loaded)
    assert "user_id" not in props


def test_wrong_message_type_is_a_terminal_contract_error() -> None:
    body, props = encode(_webhook())
    props["message_type"] = "SyncRequested"
    with pytest.raises(ContractError, match="message_type"):
        decode(Topic.WEBHOOK_RECEIVED, body, props)


def test_newer_schema_version_is_refused() -> None:
    body, props = encode(_webhook())
    props["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ContractError, match="newer"):
        decode(Topic.WEBHOOK_RECEIVED, body, props)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", json.dumps({"user_id": "x", "event_type": "sleep.updated"}).encode()],
)
def test_invalid_payloads_are_terminal(body: bytes) -> None:
    with pytest.raises(TerminalError):
        decode(Topic.WEBHOOK_RECEIVED, body, {})


def test_unknown_fields_are_rejected_not_ignored() -> None:
    body, props = encode(_webhook())
    data = json.loads(body)
    data["surprise"] = 1
    with pytest.raises(ContractError):
        decode(Topic.WEBHOOK_RECEIVED, json.dumps(data).encode(), props)


def test_unknown_webhook_type_is_not_a_valid_event_type() -> None:
    with pytest.raises(ValueError):
        WebhookEventType("cycle.updated")


def test_sync_requested_defaults_to_the_four_collections() -> None:
    msg = SyncRequested(user_id=1, requested_at=NOW)
    assert [r.value for r in msg.resources] == ["cycle", "sleep", "recovery", "workout"]
    assert len(msg.job_id) == 32


def test_every_topic_has_one_payload_type_and_a_subscription() -> None:
    for topic in Topic:
        assert message_type_for_topic(topic).topic is topic
        assert any(s.topic is topic for s in SUBSCRIPTIONS)


def test_undeclared_subscription_fails_loudly() -> None:
    assert subscription(Topic.BLOB_EVENTS, "loader").name == "loader"
    with pytest.raises(KeyError):
        subscription(Topic.BLOB_EVENTS, "lodaer")


def test_topic_names_appear_only_in_the_contract_module() -> None:
    """A topic name spelt anywhere else in product code would drift from the contract."""
    names = [t.value for t in Topic]
    pattern = re.compile("|".join(re.escape(f'"{n}"') for n in names))
    offenders = []
    for root in ("shared", "services", "ml"):
        for path in (REPO / root).rglob("*.py"):
            if path.name == "topics.py" and path.parent.name == "contracts":
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
