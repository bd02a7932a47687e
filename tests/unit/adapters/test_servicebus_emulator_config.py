"""The Service Bus emulator config and docker-compose.yml agree with ``shared.contracts``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from shared.contracts import SUBSCRIPTIONS, Topic

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "deploy" / "servicebus-emulator" / "config.json"
COMPOSE = ROOT / "docker-compose.yml"


def _iso_seconds(duration: str) -> int:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", duration)
    assert match, duration
    h, m, s = (int(x or 0) for x in match.groups())
    return h * 3600 + m * 60 + s


def _topics() -> list[dict[str, Any]]:
    config = json.loads(CONFIG.read_text())
    (namespace,) = config["UserConfig"]["Namespaces"]
    assert namespace["Queues"] == []
    topics: list[dict[str, Any]] = namespace["Topics"]
    return topics


def test_emulator_config_declares_exactly_the_contract_subscriptions() -> None:
    declared = {(t["Name"], s["Name"]) for t in _topics() for s in t["Subscriptions"]}
    assert declared == {(s.topic.value, s.name) for s in SUBSCRIPTIONS}
    assert {t["Name"] for t in _topics()} == {t.value for t in Topic}
    names = [t["Name"] for t in _topics()]
    assert len(names) == len(set(names))


def test_emulator_subscriptions_have_the_semantics_the_services_assume() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    env = compose["x-wdp-env"]
    lock_s = float(env["WDP_BUS_LOCK_DURATION_S"])
    for topic in _topics():
        props = topic["Properties"]
        assert props["RequiresDuplicateDetection"] is True  # message_id dedupe
        assert _iso_seconds(props["DuplicateDetectionHistoryTimeWindow"]) >= 20
        for sub in topic["Subscriptions"]:
            p = sub["Properties"]
            assert _iso_seconds(p["LockDuration"]) == lock_s
            assert 1 <= p["MaxDeliveryCount"] <= 10
            assert p["RequiresSession"] is False  # sessions are opt-in (servicebus_use_sessions)
            assert p["ForwardTo"] == "" and p["ForwardDeadLetteredMessagesTo"] == ""


def test_compose_builds_every_service_from_its_dockerfile_with_the_azure_profile() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"azurite", "servicebus-emulator", "sqledge"} <= set(services)
    expected = {
        "simulator": "deploy/Dockerfile.whoop_simulator",
        "receiver": "deploy/Dockerfile.receiver",
        "extractor": "deploy/Dockerfile.extractor",
        "loader": "deploy/Dockerfile.loader",
        "transformer": "deploy/Dockerfile.transformer",
        "scorer": "deploy/Dockerfile.scorer",
    }
    for name, dockerfile in expected.items():
        assert services[name]["build"]["dockerfile"] == dockerfile
        assert (ROOT / dockerfile).is_file(), dockerfile
        if name != "simulator":
            env = services[name]["environment"]
            assert env["WDP_PROFILE"] == "azure"
            assert "servicebus-emulator" in env["WDP_SERVICEBUS_CONNECTION_STRING"]
            assert "azurite:10000" in env["WDP_BLOB_CONNECTION_STRING"]
    mount = services["servicebus-emulator"]["volumes"][0]
    assert mount.startswith("./deploy/servicebus-emulator/config.json:")
