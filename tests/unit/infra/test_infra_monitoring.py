"""Static checks of alerting, the workbook, the budget, network isolation and the size profiles.

The alert queries are KQL strings in modules/monitoring/locals.tf; these tests hold them to
what the code really emits (log messages, metric names, ``extra`` keys) and to the contract
(every Service Bus entity an alert names is a topic of ``shared.contracts``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shared.contracts.topics import SUBSCRIPTIONS, Topic
from shared.runtime.service import HEARTBEAT_METRIC
from shared.whoop_client import WHOOP_REQUESTS_METRIC
from tests.unit.infra.test_infra_terraform import (
    AZURE,
    ENVS,
    ROOT,
    contract_services,
    env_calls,
    first_block,
    load_dir,
    load_hcl,
    module,
)
from transformer.metrics import DATA_TEST_FAILURES

# Every alert the operations runbook promises (issue: alerts, SLOs), by local.log_alerts key.
REQUIRED_LOG_ALERTS = {
    "freshness",  # freshness SLA breach per member
    "dead_letters",  # dead-lettering seen by the consumers
    "reauth",  # members needing re-auth
    "quota",  # WHOOP quota near exhaustion
    "transformer_failures",  # failed gold audit or dbt failure
    "heartbeat",  # no heartbeat
    "restarts",  # service restarts
    "success_rate",  # pipeline success rate below the SLO
}
WORKBOOK_PANELS = {
    "throughput",
    "latency",
    "success_rate_stages",
    "success_rate_e2e",
    "queue_depth",
    "dead_letters",
    "quota",
    "freshness",
}
NETWORK_CHECKS = ("CKV_AZURE_59", "CKV_AZURE_35", "CKV_AZURE_204", "CKV_AZURE_109", "CKV_AZURE_189")


@cache
def python_sources() -> str:
    """Every service and shared module's source, for 'is this string really emitted' checks."""
    files = [*ROOT.glob("shared/shared/**/*.py"), *ROOT.glob("services/*/*/**/*.py")]
    return "\n".join(p.read_text() for p in files if "/tests/" not in str(p))


def monitoring_locals() -> dict[str, Any]:
    return module("monitoring").locals


def log_alerts() -> dict[str, dict[str, Any]]:
    alerts = monitoring_locals()["log_alerts"]
    assert isinstance(alerts, dict)
    return alerts


def kql_queries() -> dict[str, str]:
    return {k: v for k, v in monitoring_locals().items() if k.startswith("kql_")}


# --- alerts -----------------------------------------------------------------------------------


def test_monitoring_has_every_required_alert_wired_to_the_action_group() -> None:
    assert set(log_alerts()) == REQUIRED_LOG_ALERTS
    mon = module("monitoring")
    (rule,) = [body for _, body in mon.resources("azurerm_monitor_scheduled_query_rules_alert_v2")]
    assert rule["for_each"] == "${local.enabled_log_alerts}"
    assert rule["scopes"] == ["${var.log_analytics_workspace_id}"]
    assert first_block(rule, "action")["action_groups"] == [
        "${azurerm_monitor_action_group.this.id}"
    ]
    criteria = first_block(rule, "criteria")
    assert criteria["metric_measure_column"] == "${each.value.measure}"
    for name, body in mon.resources("azurerm_monitor_metric_alert"):
        assert first_block(body, "action")["action_group_id"] == (
            "${azurerm_monitor_action_group.this.id}"
        ), name
    for key, alert in log_alerts().items():
        assert alert["description"], key
        assert alert["severity"] in {0, 1, 2, 3, 4}, key
        measure = alert["measure"]
        assert (
            re.search(rf"\b{measure}\b", alert["query"])
            or measure in kql_queries()[alert["query"].strip("${}").removeprefix("local.")]
        ), f"{key}: the query never produces {measure}"


def test_monitoring_alerts_use_only_messages_and_metrics_the_code_emits() -> None:
    sources = python_sources()
    messages: set[str] = set()
    for query in kql_queries().values():
        messages |= set(re.findall(r'Message (?:==|startswith) "([^"]+)"', query))
        for group in re.findall(r"Message in \(([^)]*)\)", query):
            messages |= set(re.findall(r'"([^"]+)"', group))
    assert {"gold audit failed", "user needs re-authorisation", "dead-lettering message"} <= (
        messages
    )
    for message in messages:
        assert f'"{message}' in sources, f"KQL looks for a log message nobody logs: {message!r}"
    metrics = set()
    for query in kql_queries().values():
        metrics |= set(re.findall(r'Name == "(wdp\.[a-z_.]+)"', query))
    assert metrics == {HEARTBEAT_METRIC, WHOOP_REQUESTS_METRIC}
    # Each Properties key an alert groups or filters by is an `extra` key the code logs with.
    keys = set()
    for query in kql_queries().values():
        keys |= set(re.findall(r"Properties\.(\w+)", query))
    for key in keys - {"service", "status"}:  # metric attributes, checked below
        assert f'"{key}":' in sources, f"no log record carries extra key {key!r}"
    assert '{"service": name}' in sources and '{"status": ' in sources
    # The failed-audit alert and the data-test metric describe the same event.
    assert DATA_TEST_FAILURES.startswith("wdp.transformer.")


def test_monitoring_success_rate_is_completed_over_finished_per_stage_and_end_to_end() -> None:
    stage = monitoring_locals()["kql_stage_success"]
    assert "Success == true" in stage and '"dead-lettering message"' in stage
    assert "finished = completed + dead_lettered" in stage
    assert "success_rate = todouble(completed) / finished" in stage
    e2e = monitoring_locals()["kql_success_rate"]
    assert "${local.kql_stage_success}" in e2e and "exp(sum(log(success_rate)))" in e2e
    alert = log_alerts()["success_rate"]
    assert alert["operator"] == "LessThan" and alert["threshold"] == "${var.success_rate_slo}"
    assert alert["window"] == "${var.success_rate_window}"
    slo = dict(module("monitoring").variables)["success_rate_slo"]
    assert slo["default"] == 0.95


def test_monitoring_service_bus_alerts_name_only_contract_topics() -> None:
    mon = module("monitoring")
    alerts = dict(mon.resources("azurerm_monitor_metric_alert"))
    assert {"dead_letters", "dead_letter_growth"} <= set(alerts)
    for name, body in alerts.items():
        block = first_block(body, "criteria" if "criteria" in body else "dynamic_criteria")
        assert block["metric_namespace"] == "Microsoft.ServiceBus/namespaces", name
        assert block["metric_name"] == "DeadletteredMessages", name
        dimension = first_block(block, "dimension")
        assert dimension["name"] == "EntityName"
        assert dimension["values"] == "${sort(keys(var.topics))}", name
    # The root feeds the contract's topology, which equals shared.contracts (other test file).
    call = dict(load_dir(ENVS).blocks("module"))["monitoring"]
    assert call["topics"] == "${module.contract.topics}"
    topics = module("contract").locals["topics"]
    assert set(topics) == {t.value for t in Topic}
    assert {(t, s) for t, subs in topics.items() for s in subs} == {
        (s.topic.value, s.name) for s in SUBSCRIPTIONS
    }


def test_monitoring_heartbeat_alert_watches_warm_bus_consumers_only() -> None:
    call = dict(load_dir(ENVS).blocks("module"))["monitoring"]
    expr = call["warm_services"]
    assert "min_replicas >= 1" in expr and "consumes" in expr
    consumers = {n for n, s in contract_services().items() if s["consumes"]}
    assert "receiver" not in consumers  # HTTP probes cover it; it runs no ServiceRunner
    assert "${jsonencode(var.warm_services)}" in monitoring_locals()["kql_heartbeat"]


# --- workbook and budget ----------------------------------------------------------------------


def test_monitoring_workbook_shows_every_panel_with_the_alert_queries() -> None:
    mon = module("monitoring")
    (wb,) = [body for _, body in mon.resources("azurerm_application_insights_workbook")]
    assert "uuidv5" in wb["name"] and wb["source_id"] == "${lower(var.app_insights_id)}"
    panels = {p["key"]: p for p in monitoring_locals()["workbook_panels"]}
    assert set(panels) == WORKBOOK_PANELS
    assert panels["success_rate_stages"]["query"] == "${local.kql_stage_success}"
    assert panels["success_rate_e2e"]["query"] == "${local.kql_success_rate}"
    assert panels["quota"]["query"] == "${local.kql_quota}"
    assert "ActiveMessages" in panels["queue_depth"]["query"]
    assert "percentile(DurationMs, 95)" in panels["latency"]["query"]
    (diag,) = [body for _, body in mon.resources("azurerm_monitor_diagnostic_setting")]
    assert diag["target_resource_id"] == "${var.servicebus_namespace_id}"


def test_monitoring_budget_notifies_the_action_group_at_each_threshold() -> None:
    mon = module("monitoring")
    (budget,) = [body for _, body in mon.resources("azurerm_consumption_budget_resource_group")]
    assert budget["time_grain"] == "Monthly" and budget["amount"] == "${var.budget_amount}"
    dyn = budget["dynamic"][0]["notification"]
    assert dyn["for_each"] == "${toset(var.budget_thresholds)}"
    assert dyn["content"][0]["contact_groups"] == ["${azurerm_monitor_action_group.this.id}"]
    forecast = first_block(budget, "notification")
    assert forecast["threshold_type"] == "Forecasted"
    assert forecast["contact_groups"] == ["${azurerm_monitor_action_group.this.id}"]
    assert dict(mon.variables)["budget_thresholds"]["default"] == [50, 80, 100]


# --- network isolation ------------------------------------------------------------------------


def test_network_isolation_is_one_variable_that_closes_public_access() -> None:
    root = load_dir(ENVS)
    variables = dict(root.variables)
    assert variables["network_isolation"]["default"] is False
    (rule,) = variables["network_isolation"]["validation"]
    assert 'servicebus_sku == "Premium"' in rule["condition"]
    calls = dict(root.blocks("module"))
    for name in ("service_bus", "storage", "key_vault"):
        assert calls[name]["public_network_access_enabled"] == (
            "${var.network_isolation ? false : true}"
        ), name
    assert calls["network"]["enabled"] == "${var.network_isolation}"
    assert calls["container_apps"]["infrastructure_subnet_id"] == (
        "${module.network.container_apps_subnet_id}"
    )
    endpoints = module("network").locals["endpoints"]
    assert {k: v["subresource"] for k, v in endpoints.items()} == {
        "servicebus": "namespace",
        "blob": "blob",
        "dfs": "dfs",
        "vault": "vault",
    }
    assert set(module("network").locals["dns_zones"]) == set(endpoints)
    sb = module("service_bus").resource("azurerm_servicebus_namespace", "this")
    nrs = sb["dynamic"][0]["network_rule_set"]["content"][0]
    assert nrs["default_action"] == "Deny" and nrs["trusted_services_allowed"] is True
    st = module("storage").resource("azurerm_storage_account", "this")
    assert st["dynamic"][0]["network_rules"]["content"][0]["default_action"] == "Deny"
    assert load_hcl(ENVS / "isolated.tfvars")["network_isolation"] is True


@pytest.mark.skipif(shutil.which("checkov") is None, reason="checkov not installed (CI: pipx)")
def test_network_checkov_network_checks_pass_in_isolated_mode(tmp_path: Path) -> None:
    """checkov (offline) on prod + isolated.tfvars: the attribute-level network checks pass.
    The two graph checks (CKV2_AZURE_32/33, "has a private endpoint") cannot follow a
    for_each across modules; the previous test asserts those endpoints instead."""
    copy = tmp_path / "azure"
    shutil.copytree(AZURE, copy, ignore=shutil.ignore_patterns(".checkov.yaml", ".terraform"))
    result = subprocess.run(
        [
            "checkov",
            "--directory",
            str(copy),
            "--framework",
            "terraform",
            "--skip-download",
            "--download-external-modules",
            "false",
            "--compact",
            "--var-file",
            str(copy / "envs" / "prod.tfvars"),
            "--var-file",
            str(copy / "envs" / "isolated.tfvars"),
            "--check",
            ",".join(NETWORK_CHECKS),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"Passed checks: {len(NETWORK_CHECKS)}, Failed checks: 0" in result.stdout


# --- size profiles ----------------------------------------------------------------------------


def test_small_profile_only_resizes_and_fits_the_budget() -> None:
    small = load_hcl(ENVS / "small.tfvars")
    assert "environment" not in small, "a size profile layers over an environment"
    variables = dict(load_dir(ENVS).variables)
    assert set(small) <= set(variables)
    assert small["servicebus_sku"] == "Standard"
    assert small["network_isolation"] is False  # private endpoints need Premium
    assert set(small["scaling"]) == set(contract_services())
    warm = {name for name, s in small["scaling"].items() if s["min_replicas"] >= 1}
    assert warm == {"extractor"}, "only the extractor (hourly reconciliation) stays warm"
    assert 50 <= small["budget_amount"] <= 120
    # The larger profile (prod as committed) keeps every service warm on Premium.
    prod = env_calls("prod")
    assert prod["service_bus"]["sku"] == "Premium"
    costs = (ROOT / "docs" / "costs.md").read_text()
    assert "small.tfvars" in costs and "| 1,000 members" in costs


def test_operations_doc_has_a_runbook_section_per_alert_and_dr_targets() -> None:
    ops = (ROOT / "docs" / "operations.md").read_text()
    for key in REQUIRED_LOG_ALERTS:
        section = f"### alert-{key.replace('_', '-')}"
        assert section in ops, f"docs/operations.md lacks the runbook {section}"
        body = ops.split(section, 1)[1].split("\n### ", 1)[0]
        assert "Confirm" in body and ("replay" in body.lower()), section
    assert "## Disaster recovery" in ops and "RPO" in ops and "RTO" in ops
    # The alert's runbook link points at those sections.
    (rule,) = [
        b
        for _, b in module("monitoring").resources("azurerm_monitor_scheduled_query_rules_alert_v2")
    ]
    link = first_block(rule, "action")["custom_properties"]["runbook"]
    assert link.startswith("docs/operations.md#alert-")
