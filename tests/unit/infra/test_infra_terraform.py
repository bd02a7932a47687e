"""Static checks of infrastructure/azure: structure, contract parity, identities, least privilege.

``terraform validate`` needs the provider registry, which CI may not reach, so these tests parse
every ``.tf`` file with python-hcl2 and check what matters to this project: the Service Bus
topology equals ``shared.contracts.SUBSCRIPTIONS``, every container app runs as a managed identity
with Key Vault references only, KEDA rules point at declared subscriptions, WDP_* variables are
real ``PlatformSettings`` fields, and role assignments are scoped below namespace/account level.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from extractor.settings import ExtractorSettings
from receiver.settings import ReceiverSettings
from scorer.settings import ScorerSettings
from shared.contracts.topics import SUBSCRIPTIONS, Topic
from shared.settings import PlatformSettings
from transformer.settings import TransformerSettings

ROOT = Path(__file__).resolve().parents[3]
AZURE = ROOT / "infrastructure" / "azure"
MODULES = AZURE / "modules"
# One root module for every environment; dev and prod differ only by <env>.tfvars and
# <env>.backend.hcl next to it (separate state keys), never by a copied root.
ENVS = AZURE / "envs"
ENVIRONMENTS = ("dev", "prod")
MODULE_FILES = ("terraform.tf", "main.tf", "locals.tf", "variables.tf", "outputs.tf")
ENV_FILES = ("terraform.tf", "main.tf", "locals.tf", "variables.tf", "outputs.tf")
# What each committed <env>.tfvars must decide, and what must never be committed with it
# (per-deployment values go in the ignored <env>.local.tfvars).
ENV_INPUTS = {
    "environment",
    "log_daily_quota_gb",
    "log_level",
    "log_retention_in_days",
    "scaling",
    "servicebus_sku",
    "storage_replication_type",
}
DEPLOYMENT_INPUTS = {
    "image_repository_prefix",
    "image_tag",
    "resource_group_name",
    "snowflake",
    "subscription_id",
    "unique_suffix",
    "whoop",
}
EXPECTED_MODULES = {
    "contract",
    "service_bus",
    "storage",
    "key_vault",
    "observability",
    "container_apps",
    "rbac",
    "network",
    "monitoring",
}

# Roles any identity in this project may hold; anything broader (Owner, Contributor, ...) fails.
ALLOWED_ROLES = {
    "Azure Service Bus Data Receiver",
    "Azure Service Bus Data Sender",
    "Azure Service Bus Data Owner",  # KEDA scaler identities only, on one subscription each
    "Storage Blob Data Reader",
    "Storage Blob Data Contributor",
    "Key Vault Secrets User",
    "Key Vault Secrets Officer",
    "AcrPull",
}
# Scope expressions that are below namespace/account level, or the documented exceptions.
ALLOWED_SCOPES = {
    "${var.subscription_ids[each.value.subscription_key]}": "one Service Bus subscription",
    "${var.topic_ids[each.value.topic]}": "one Service Bus topic",
    "${var.blob_events_topic_id}": "the storage.blob-events topic",
    "${var.lake_container_id}": "the lake container",
    "${local.event_dead_letters_container_id}": "the Event Grid dead-letter container",
    "${var.token_container_id}": "the token container",
    # Key Vault RBAC on a single secret needs the secret to exist before the assignment;
    # operators create them after the first apply, so the vault is the narrowest scope.
    "${var.key_vault_id}": "the Key Vault (documented exception)",
    "${azurerm_key_vault.this.id}": "the Key Vault (secret officers)",
    "${var.container_registry_id}": "the image registry (pull only)",
}


# Environment variable prefix -> the settings class that reads it.
SERVICE_SETTINGS: dict[str, type[Any]] = {
    "WDP_RECEIVER_": ReceiverSettings,
    "WDP_EXTRACTOR_": ExtractorSettings,
    "WDP_TRANSFORMER_": TransformerSettings,
    "WDP_SCORER_": ScorerSettings,
}


def is_settings_field(env_name: str) -> bool:
    """True when some settings class reads ``env_name`` (service prefixes before WDP_)."""
    for prefix, settings_cls in SERVICE_SETTINGS.items():
        if env_name.startswith(prefix):
            return env_name[len(prefix) :].lower() in settings_cls.model_fields
    if env_name.startswith("WDP_"):
        return env_name[4:].lower() in PlatformSettings.model_fields
    return env_name in {"APPLICATIONINSIGHTS_CONNECTION_STRING", "AZURE_CLIENT_ID"}


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals and labels; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def deep_unquote(value: Any) -> Any:
    if isinstance(value, dict):
        return {unquote(k): deep_unquote(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [deep_unquote(v) for v in value]
    return unquote(value)


@dataclass
class TfDir:
    """Everything declared in one Terraform directory, in file order."""

    path: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def blocks(self, kind: str, file: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for name, parsed in self.files.items():
            if file is not None and name != file:
                continue
            for block in parsed.get(kind, []):
                for label, body in block.items():
                    out.append((unquote(label), deep_unquote(body)))
        return out

    def resources(self, rtype: str) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for label, body in self.blocks("resource"):
            if label == rtype:
                out.extend((unquote(k), v) for k, v in body.items())
        return out

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        matches = [body for n, body in self.resources(rtype) if n == name]
        assert len(matches) == 1, f"{self.path.name}: expected one {rtype}.{name}"
        return matches[0]

    @property
    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for parsed in self.files.values():
            for block in parsed.get("locals", []):
                merged.update(deep_unquote(block))
        return merged

    @property
    def variables(self) -> list[tuple[str, dict[str, Any]]]:
        return self.blocks("variable")

    @property
    def outputs(self) -> list[tuple[str, dict[str, Any]]]:
        return self.blocks("output")


@cache
def load_dir(path: Path) -> TfDir:
    tf = TfDir(path)
    for file in sorted(path.glob("*.tf")):
        with file.open() as fh:
            tf.files[file.name] = hcl2.load(fh)
    return tf


def module(name: str) -> TfDir:
    return load_dir(MODULES / name)


def all_dirs() -> list[Path]:
    return [*sorted(p for p in MODULES.iterdir() if p.is_dir()), ENVS]


def load_hcl(path: Path) -> dict[str, Any]:
    """A .tfvars or backend .hcl file: top-level attributes only, quotes dropped."""
    with path.open() as fh:
        parsed = deep_unquote(hcl2.load(fh))
    assert isinstance(parsed, dict)
    return {k: v for k, v in parsed.items() if not k.startswith("__")}


def env_calls(env: str) -> dict[str, dict[str, Any]]:
    """The root's module calls as ``env`` deploys them: a bare ``${var.X}`` argument becomes the
    value <env>.tfvars gives X (or X's default), so per-env checks see real values."""
    tfvars = load_hcl(ENVS / f"{env}.tfvars")
    defaults = {
        name: body["default"] for name, body in load_dir(ENVS).variables if "default" in body
    }

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, str):
            match = re.fullmatch(r"\$\{var\.(\w+)\}", value)
            if match and match.group(1) in tfvars:
                return tfvars[match.group(1)]
            if match and match.group(1) in defaults:
                return defaults[match.group(1)]
        return value

    return {name: resolve(body) for name, body in load_dir(ENVS).blocks("module")}


def first_block(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body[key]
    assert isinstance(value, list) and len(value) == 1, f"expected one {key} block"
    block = value[0]
    assert isinstance(block, dict)
    return block


def dynamic(body: dict[str, Any], name: str) -> dict[str, Any]:
    for block in body.get("dynamic", []):
        if name in block:
            found = block[name]
            assert isinstance(found, dict)
            return found
    raise AssertionError(f"no dynamic {name!r} block")


def iso_seconds(duration: str) -> int:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", duration)
    assert match, duration
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def contract_services() -> dict[str, dict[str, Any]]:
    services = module("contract").locals["services"]
    assert isinstance(services, dict)
    return services


# --- structure --------------------------------------------------------------------------------


def test_infra_every_module_has_the_house_layout() -> None:
    assert {p.name for p in MODULES.iterdir() if p.is_dir()} == EXPECTED_MODULES
    for name in EXPECTED_MODULES:
        present = {p.name for p in (MODULES / name).glob("*.tf")}
        missing = set(MODULE_FILES) - present
        assert not missing, f"module {name} lacks {sorted(missing)}"
        extra = {f for f in present - set(MODULE_FILES) if not re.fullmatch(r"main\.\w+\.tf", f)}
        assert not extra, f"module {name}: unexpected files {sorted(extra)} (use main.<feature>.tf)"
    present = {p.name for p in ENVS.glob("*.tf")}
    assert present == set(ENV_FILES), f"envs root: expected {sorted(ENV_FILES)}, has {present}"
    assert not [p for p in ENVS.iterdir() if p.is_dir()], "no per-env copies of the root"
    for env in ENVIRONMENTS:
        for suffix in (".tfvars", ".backend.hcl"):
            assert (ENVS / f"{env}{suffix}").is_file(), f"envs/{env}{suffix} is missing"


def test_infra_versions_are_pinned_only_in_terraform_tf() -> None:
    for path in all_dirs():
        tf = load_dir(path)
        for file, parsed in tf.files.items():
            if file != "terraform.tf":
                assert "terraform" not in parsed, f"{path.name}/{file}: versions go in terraform.tf"
        (settings,) = tf.files["terraform.tf"]["terraform"]
        assert unquote(settings["required_version"]).startswith("~> "), path
        for providers in settings.get("required_providers", []):
            for name, spec in providers.items():
                if name == "__is_block__":
                    continue
                pin = unquote(spec["version"])
                assert pin.startswith("~> "), f"{path.name}: {name} is not ~> pinned"


def test_infra_variables_are_typed_described_and_ordered() -> None:
    for path in all_dirs():
        variables = load_dir(path).variables
        for name, body in variables:
            assert "type" in body, f"{path.name}: variable {name} has no type"
            assert body.get("description"), f"{path.name}: variable {name} has no description"
        required = [name for name, body in variables if "default" not in body]
        optional = [name for name, body in variables if "default" in body]
        assert [n for n, _ in variables] == required + optional, f"{path.name}: required first"
        assert required == sorted(required), f"{path.name}: required variables not alphabetical"
        assert optional == sorted(optional), f"{path.name}: optional variables not alphabetical"


def test_infra_name_like_inputs_are_validated() -> None:
    """Names, enums and bounded numbers must say their rule in a validation block."""
    for path in all_dirs():
        for name, body in load_dir(path).variables:
            if name in {"name", "sku", "image_tag", "unique_suffix", "max_delivery_count"}:
                assert body.get("validation"), f"{path.name}: variable {name} is not validated"
            for rule in body.get("validation", []):
                assert rule.get("error_message"), f"{path.name}: {name} validation without message"


def test_infra_outputs_are_described_and_alphabetical() -> None:
    for path in all_dirs():
        outputs = load_dir(path).outputs
        names = [name for name, _ in outputs]
        assert names == sorted(names), f"{path.name}: outputs not alphabetical"
        for name, body in outputs:
            assert body.get("description"), f"{path.name}: output {name} has no description"
            if "connection_string" in name:
                assert body.get("sensitive") is True, f"{path.name}: {name} must be sensitive"


def test_infra_env_root_only_calls_modules_and_uses_azurerm_backend() -> None:
    tf = load_dir(ENVS)
    for file, parsed in tf.files.items():
        assert "resource" not in parsed, f"envs/{file}: roots only call modules"
        assert "data" not in parsed, f"envs/{file}: roots only call modules"
    (settings,) = tf.files["terraform.tf"]["terraform"]
    backends = [unquote(k) for b in settings["backend"] for k in b if k != "__is_block__"]
    assert backends == ["azurerm"]
    called = dict(tf.blocks("module"))
    assert set(called) == EXPECTED_MODULES
    for name, body in called.items():
        assert (ENVS / body["source"]).resolve() == (MODULES / name).resolve()
    # The environment is an input, not a literal: names, tags and WDP_ENVIRONMENT follow it.
    assert "${var.environment}" in tf.locals["name"]
    assert "${var.environment}" in tf.locals["unique_name"]
    platform = called["container_apps"]["platform"]
    assert platform["environment"] == "${var.environment}"


def test_infra_each_env_has_its_own_state_key_and_no_backend_secrets() -> None:
    keys: list[str] = []
    for env in ENVIRONMENTS:
        backend = load_hcl(ENVS / f"{env}.backend.hcl")
        assert backend["key"] == f"wdp/{env}.tfstate", f"{env}: state key"
        assert backend.get("container_name"), f"{env}: no state container"
        # Entra ID auth comes from terraform.tf; keys, SAS tokens and secrets never go here.
        leaked = set(backend) & {"access_key", "sas_token", "client_secret", "client_certificate"}
        assert not leaked, f"{env}.backend.hcl holds credentials: {sorted(leaked)}"
        keys.append(backend["key"])
    assert len(keys) == len(set(keys)), "two environments would share one state"


def test_infra_env_tfvars_set_every_env_input_and_nothing_per_deployment() -> None:
    variables = dict(load_dir(ENVS).variables)
    required = {name for name, body in variables.items() if "default" not in body}
    # Every required input is decided either per environment (committed) or per deployment.
    assert required == (ENV_INPUTS - {"scaling"}) | DEPLOYMENT_INPUTS
    services = set(contract_services())
    tfvars: dict[str, dict[str, Any]] = {}
    for env in ENVIRONMENTS:
        values = load_hcl(ENVS / f"{env}.tfvars")
        assert values["environment"] == env, f"{env}.tfvars deploys {values['environment']}"
        assert set(values) <= set(variables), (
            f"{env}.tfvars: unknown {set(values) - set(variables)}"
        )
        assert ENV_INPUTS <= set(values), f"{env}.tfvars lacks {sorted(ENV_INPUTS - set(values))}"
        committed = set(values) & DEPLOYMENT_INPUTS
        assert not committed, f"{env}.tfvars commits per-deployment {sorted(committed)}"
        assert set(values["scaling"]) <= services, f"{env}.tfvars scales unknown services"
        tfvars[env] = values
    dev, prod = tfvars["dev"], tfvars["prod"]
    assert dev["scaling"]["receiver"]["min_replicas"] == 0, "dev idles at zero"
    assert prod["servicebus_sku"] == "Premium"
    assert prod["storage_replication_type"] in {"ZRS", "GZRS", "RAGZRS"}, "prod lake is zonal"
    assert prod["log_retention_in_days"] >= dev["log_retention_in_days"]
    assert prod["log_level"] != "DEBUG"
    # One warm replica per service; the receiver stays single until its OAuth state is shared.
    assert {name for name, s in prod["scaling"].items() if s["min_replicas"] >= 1} == services
    assert prod["scaling"]["receiver"]["max_replicas"] == 1


def test_infra_env_inputs_are_validated_in_the_root_or_the_module_they_feed() -> None:
    """A per-environment input may leave its rule to the module that owns it (one rule, no
    drift), but only if that module variable really has a validation block."""
    root = load_dir(ENVS)
    fed: dict[str, list[tuple[str, str]]] = {}
    for call, body in root.blocks("module"):
        for arg, value in body.items():
            text = json.dumps(value)
            for var in re.findall(r"\$\{var\.(\w+)\}", text):
                fed.setdefault(var, []).append((call, arg))
    variables = dict(root.variables)
    claimed = {n for n, body in variables.items() if "validated by" in body["description"]}
    assert "servicebus_premium_capacity" in claimed
    for name in (ENV_INPUTS - {"scaling"}) | claimed:
        if variables[name].get("validation"):
            continue
        targets = [
            (call, arg)
            for call, arg in fed.get(name, [])
            if dict(module(call).variables).get(arg, {}).get("validation")
        ]
        assert targets, f"envs: {name} is validated neither in the root nor in a module it feeds"


# --- contract parity --------------------------------------------------------------------------


def test_infra_topics_and_subscriptions_equal_shared_contracts() -> None:
    topics = module("contract").locals["topics"]
    declared = {(topic, name) for topic, names in topics.items() for name in names}
    assert declared == {(s.topic.value, s.name) for s in SUBSCRIPTIONS}
    assert set(topics) == {t.value for t in Topic}
    assert module("contract").locals["blob_events_topic"] == Topic.BLOB_EVENTS.value


def test_infra_service_wiring_uses_only_declared_subscriptions_and_topics() -> None:
    subscriptions = {(s.topic.value, s.name) for s in SUBSCRIPTIONS}
    consumed: list[tuple[str, str]] = []
    for service, wiring in contract_services().items():
        for topic, name in wiring["consumes"].items():
            assert (topic, name) in subscriptions, f"{service} consumes undeclared {topic}/{name}"
            assert name == service, f"{service} must consume its own subscription, not {name}"
            consumed.append((topic, name))
        for topic in wiring["publishes"]:
            assert topic in {t.value for t in Topic}, f"{service} publishes to unknown {topic}"
            if topic in wiring["consumes"]:
                # The deliberate loops: the extractor starts a backfill as SyncRequested and
                # re-schedules not-yet-scored recovery webhooks on their own topic.
                assert service == "extractor", topic
                assert topic in {Topic.SYNC_REQUESTED.value, Topic.WEBHOOK_RECEIVED.value}
    assert len(consumed) == len(set(consumed)), "a subscription has two consuming services"
    # Every subscription has a container app behind it, except the operators' observer.
    assert subscriptions - set(consumed) == {(Topic.PREDICTIONS_WRITTEN.value, "observer")}


def test_infra_least_privilege_shape_of_the_wiring() -> None:
    services = contract_services()
    assert set(services) == {"receiver", "extractor", "loader", "transformer", "scorer"}
    assert services["receiver"]["consumes"] == {}
    assert set(services["receiver"]["publishes"]) == {
        t.value for t in Topic if t.value.startswith("whoop.")
    }
    # Only Event Grid sends BlobCreated events; no service may forge them.
    assert all(Topic.BLOB_EVENTS.value not in s["publishes"] for s in services.values())
    writers = {name for name, s in services.items() if s["blob_access"] == "write"}
    assert writers == {"extractor"}, "only the extractor writes bronze"
    assert services["loader"]["blob_access"] == "read"
    assert {n for n, s in services.items() if s["tokens"]} == {"receiver", "extractor"}
    assert {n for n, s in services.items() if s["ingress"]} == {"receiver"}
    assert {n for n, s in services.items() if s["snowflake"]} == {"loader", "transformer", "scorer"}


# --- Service Bus ------------------------------------------------------------------------------


def test_infra_service_bus_semantics_match_the_local_bus() -> None:
    sb = module("service_bus")
    namespace = sb.resource("azurerm_servicebus_namespace", "this")
    assert namespace["local_auth_enabled"] is False, "SAS keys must be off: identities only"
    topic = sb.resource("azurerm_servicebus_topic", "this")
    assert topic["requires_duplicate_detection"] is True
    assert topic["for_each"] == "${var.topics}"
    sub = sb.resource("azurerm_servicebus_subscription", "this")
    assert sub["dead_lettering_on_message_expiration"] is True
    assert sub["max_delivery_count"] == "${var.max_delivery_count}"
    assert sub["requires_session"] == "${var.sessions_enabled}"
    defaults = {name: body.get("default") for name, body in sb.variables}
    assert defaults["max_delivery_count"] == PlatformSettings().bus_max_delivery_count == 10
    assert defaults["sku"] == "Standard"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_infra_env_bus_settings_agree_between_broker_and_services(env: str) -> None:
    calls = env_calls(env)
    broker, apps = calls["service_bus"], calls["container_apps"]
    assert iso_seconds(broker["lock_duration"]) == apps["platform"]["lock_duration_s"]
    assert broker["max_delivery_count"] == apps["platform"]["max_delivery_count"]
    assert broker["sessions_enabled"] == apps["platform"]["sessions_enabled"]
    assert broker["topics"] == "${module.contract.topics}"
    assert broker["sku"] == ("Standard" if env == "dev" else "Premium")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_infra_blob_events_join_the_adapters_shared_session_when_sessions_are_on(env: str) -> None:
    """ServiceBusBus opens session receivers on every subscription when sessions are on, so
    Event Grid must stamp the session id the adapter uses for messages without a user."""
    from shared.adapters.bus.servicebus import DEFAULT_SESSION_ID

    storage_call = env_calls(env)["storage"]
    assert storage_call["event_session_id"] == (
        f'${{var.sessions_enabled ? "{DEFAULT_SESSION_ID}" : null}}'
    )
    sub = module("storage").resource(
        "azurerm_eventgrid_system_topic_event_subscription", "bronze_created"
    )
    prop = first_block(dynamic(sub, "delivery_property"), "content")
    assert prop["header_name"] == "SessionId" and prop["type"] == "Static"


# --- storage and Event Grid -------------------------------------------------------------------


def test_infra_lake_account_is_hardened_adls_gen2() -> None:
    account = module("storage").resource("azurerm_storage_account", "this")
    assert account["is_hns_enabled"] is True
    assert account["min_tls_version"] == "TLS1_2"
    assert account["allow_nested_items_to_be_public"] is False
    assert account["shared_access_key_enabled"] is False
    assert account["https_traffic_only_enabled"] is True


def test_infra_blob_created_events_for_bronze_reach_the_blob_events_topic() -> None:
    storage = module("storage")
    defaults = {name: body.get("default") for name, body in storage.variables}
    container = defaults["container_name"]
    assert container == PlatformSettings().blob_container == "lake"
    prefix = storage.locals["bronze_subject_prefix"].replace("${var.container_name}", container)
    assert prefix == "/blobServices/default/containers/lake/blobs/bronze/"

    sub = storage.resource("azurerm_eventgrid_system_topic_event_subscription", "bronze_created")
    assert sub["included_event_types"] == ["Microsoft.Storage.BlobCreated"]
    assert sub["event_delivery_schema"] == "EventGridSchema"
    assert sub["service_bus_topic_endpoint_id"] == "${var.blob_events_topic_id}"
    assert first_block(sub, "subject_filter")["subject_begins_with"] == (
        "${local.bronze_subject_prefix}"
    )
    assert first_block(sub, "delivery_identity")["type"] == "SystemAssigned"
    for env in ENVIRONMENTS:
        call = env_calls(env)["storage"]
        assert call["blob_events_topic_id"] == (
            "${module.service_bus.topic_ids[module.contract.blob_events_topic]}"
        )


def test_infra_token_container_matches_the_token_store_adapter() -> None:
    from shared.adapters.tokens.azure_blob import DEFAULT_CONTAINER

    storage = module("storage")
    defaults = {name: body.get("default") for name, body in storage.variables}
    assert defaults["token_container_name"] == DEFAULT_CONTAINER
    assert defaults["token_container_name"] != defaults["container_name"], "keep tokens apart"
    tokens = module("rbac").resource("azurerm_role_assignment", "tokens")
    assert tokens["scope"] == "${var.token_container_id}"


def test_infra_key_vault_is_rbac_mode_with_purge_protection() -> None:
    vault = module("key_vault").resource("azurerm_key_vault", "this")
    assert vault["rbac_authorization_enabled"] is True
    assert vault["purge_protection_enabled"] is True
    assert not module("key_vault").resources("azurerm_key_vault_access_policy")


# --- container apps ---------------------------------------------------------------------------


def container_app() -> dict[str, Any]:
    return module("container_apps").resource("azurerm_container_app", "this")


def test_infra_container_apps_run_as_managed_identities_with_no_literal_secrets() -> None:
    app = container_app()
    assert app["for_each"] == "${var.services}"
    identity = first_block(app, "identity")
    assert identity["type"] == "UserAssigned"
    assert "var.identities[each.key].resource_id" in identity["identity_ids"]

    secret = first_block(dynamic(app, "secret"), "content")
    assert set(secret) == {"name", "identity", "key_vault_secret_id"}, "Key Vault references only"
    assert secret["identity"] == "${var.identities[each.key].resource_id}"

    locals_ = module("container_apps").locals
    # app_secrets is a for-expression: every "<secret name>" = <value> pair in it must take its
    # value from a Key Vault secret ID.
    pairs = re.findall(r'"([a-z0-9-]+)"\s*=\s*([^,}]+)', locals_["app_secrets"])
    assert {name for name, _ in pairs} == {"appinsights-connection-string", "snowflake-private-key"}
    for name, value in pairs:
        assert value.strip().startswith("var.secret_ids["), f"secret {name} is not a reference"
    secret_like = re.compile(r"(SECRET|PASSWORD|PASSPHRASE|CONNECTION_STRING|PRIVATE_KEY)$")
    for group in ("common_env", "whoop_env", "snowflake_env"):
        for name in locals_[group]:
            assert not secret_like.search(name), f"{name} must come from Key Vault, not env"

    container = first_block(first_block(app, "template"), "container")
    env_blocks = [b for b in container["dynamic"] if "env" in b]
    contents = [first_block(b["env"], "content") for b in env_blocks]
    assert {"name", "value"} in [set(c) for c in contents]
    assert {"name", "secret_name"} in [set(c) for c in contents]


def test_infra_container_app_settings_are_platform_settings_fields() -> None:
    locals_ = module("container_apps").locals
    names: set[str] = set()
    for group in ("common_env", "whoop_env", "snowflake_env"):
        names |= set(locals_[group])
    for service_env in locals_["service_env"].values():
        names |= set(service_env)
    names |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", locals_["app_env"]))
    names |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", locals_["app_secret_env"]))
    assert len(names) > 20, "environment variables not found"
    for name in names:
        assert is_settings_field(name), f"{name} is read by no settings class"
    receiver = locals_["service_env"]["receiver"]
    assert receiver["WDP_RECEIVER_HOST"] == "0.0.0.0"
    ingress_port = dict(module("container_apps").variables)["ingress_target_port"]["default"]
    assert ingress_port == 8080
    common = locals_["common_env"]
    assert common["WDP_PROFILE"] == "azure"
    assert common["WDP_BLOB_EMIT_EVENTS"] == "false"
    assert common["WDP_WAREHOUSE"] == "snowflake"
    for required in (
        "WDP_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE",
        "WDP_BLOB_ACCOUNT_URL",
        "WDP_KEY_VAULT_URL",
    ):
        assert required in common
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" in locals_["app_secret_env"]
    assert locals_["snowflake_env"]["WDP_SNOWFLAKE_PRIVATE_KEY_PATH"].endswith(
        "/snowflake-private-key"
    )


def test_infra_keda_rules_scale_consumers_on_their_own_subscriptions() -> None:
    template = first_block(container_app(), "template")
    rule_block = dynamic(template, "custom_scale_rule")
    assert rule_block["for_each"] == "${each.value.consumes}"
    rule = first_block(rule_block, "content")
    assert rule["custom_rule_type"] == "azure-servicebus"
    assert rule["identity_id"] == "${var.scaler_identities[each.key]}"
    metadata = rule["metadata"]
    assert metadata["topicName"] == "${custom_scale_rule.key}"
    assert metadata["subscriptionName"] == "${custom_scale_rule.value}"
    assert "messages_per_replica" in metadata["messageCount"]
    assert metadata["namespace"] == "${var.servicebus_namespace_name}"

    scaling = module("container_apps").locals
    consumers = {n for n, s in contract_services().items() if s["consumes"]}
    assert consumers == {"extractor", "loader", "transformer", "scorer"}
    assert scaling["default_scaling"]["min_replicas"] == 0
    assert scaling["service_scaling"]["receiver"]["min_replicas"] >= 1
    assert scaling["service_scaling"]["transformer"]["max_replicas"] == 1


# --- RBAC -------------------------------------------------------------------------------------


def all_role_assignments() -> list[tuple[str, str, dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any]]] = []
    for path in sorted(MODULES.iterdir()):
        for name, body in load_dir(path).resources("azurerm_role_assignment"):
            found.append((path.name, name, body))
    return found


def test_infra_role_assignments_are_least_privilege_and_narrowly_scoped() -> None:
    assignments = all_role_assignments()
    assert len(assignments) >= 8
    for module_name, name, body in assignments:
        where = f"{module_name}.{name}"
        assert body["role_definition_name"] in ALLOWED_ROLES, f"{where}: broad role"
        assert body["scope"] in ALLOWED_SCOPES, f"{where}: scope {body['scope']} too broad"
        assert body.get("description"), f"{where}: say why the role exists"
    owner_role = "Azure Service Bus Data Owner"
    owners = [b for _, _, b in assignments if b["role_definition_name"] == owner_role]
    assert len(owners) == 1
    assert "scaler" in owners[0]["principal_id"], "Data Owner is for KEDA scaler identities only"
    assert owners[0]["scope"] == "${var.subscription_ids[each.value.subscription_key]}"


def test_infra_rbac_derives_bus_rights_from_the_wiring_table() -> None:
    rbac = module("rbac")
    receiver = rbac.resource("azurerm_role_assignment", "bus_receiver")
    sender = rbac.resource("azurerm_role_assignment", "bus_sender")
    assert receiver["for_each"] == "${local.receives}"
    assert receiver["role_definition_name"] == "Azure Service Bus Data Receiver"
    assert sender["for_each"] == "${local.sends}"
    assert sender["role_definition_name"] == "Azure Service Bus Data Sender"
    assert "svc.consumes" in rbac.locals["receives"]
    assert "svc.publishes" in rbac.locals["sends"]
    identities = rbac.resource("azurerm_user_assigned_identity", "service")
    assert identities["for_each"] == "${var.services}"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform binary not installed")
def test_infra_terraform_files_are_fmt_clean(tmp_path: Path) -> None:
    """`terraform fmt -check` works offline; CI without the binary relies on the workflow job."""
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(AZURE)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_DATA_DIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform binary not installed")
def test_infra_terraform_itself_evaluates_the_contract_module(tmp_path: Path) -> None:
    """The provider-free contract module can be validated and evaluated offline: check what
    Terraform computes, not only what the parser sees."""
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_DATA_DIR": str(tmp_path)}
    cwd = MODULES / "contract"

    def terraform(*args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=cwd,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    terraform("init", "-backend=false", "-input=false")
    terraform("validate")
    rendered = terraform("console", stdin="jsonencode(local.topics)\n").strip()
    topics = json.loads(json.loads(rendered))
    assert {(t, n) for t, names in topics.items() for n in names} == {
        (s.topic.value, s.name) for s in SUBSCRIPTIONS
    }
    assert not (cwd / ".terraform.lock.hcl").exists(), "no provider lock may be written here"
