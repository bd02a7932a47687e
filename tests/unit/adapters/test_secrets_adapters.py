"""EnvSecretStore (env mapping, local key generation) and KeyVaultSecretStore's mapping onto
a THIN FAKE Key Vault ``SecretClient`` (no Azure involved)."""

from __future__ import annotations

import asyncio
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError
from cryptography.fernet import Fernet

from shared.adapters.secrets.env import EnvSecretStore, env_var_for
from shared.adapters.secrets.keyvault import KeyVaultSecretStore, KeyVaultUnavailable
from shared.errors import ConfigurationError
from shared.ports.secrets import SecretNotFound
from shared.settings import PlatformSettings


def test_env_var_mapping_is_explicit_then_generic() -> None:
    assert env_var_for("whoop-client-secret") == "WDP_WHOOP_CLIENT_SECRET"
    assert env_var_for("token-encryption-key") == "WDP_SECRET_TOKEN_ENCRYPTION_KEY"
    assert env_var_for("snowflake.password") == "WDP_SECRET_SNOWFLAKE_PASSWORD"


async def test_env_store_reads_mapped_variables_and_refuses_missing() -> None:
    store = EnvSecretStore(
        {"WDP_WHOOP_CLIENT_SECRET": "s3cret", "WDP_SECRET_OTHER_THING": "v", "WDP_SECRET_E": ""}
    )
    assert (await store.get("whoop-client-secret")).get_secret_value() == "s3cret"
    assert (await store.get("other-thing")).get_secret_value() == "v"
    with pytest.raises(SecretNotFound) as info:
        await store.get("e")  # empty counts as missing
    assert "WDP_SECRET_E" in str(info.value)
    assert isinstance(info.value, ConfigurationError)


async def test_local_profile_generates_token_key_once_with_0600(tmp_path: Path) -> None:
    settings = PlatformSettings(data_dir=tmp_path)
    first = EnvSecretStore.from_settings(settings)
    first._environ = {}  # isolate from the developer's shell
    second = EnvSecretStore.from_settings(settings)
    second._environ = {}
    keys = await asyncio.gather(*(s.get("token-encryption-key") for s in (first, second)))
    values = {k.get_secret_value() for k in keys}
    assert len(values) == 1, "concurrent first use must agree on one key"
    key = values.pop()
    Fernet(key.encode())  # a usable Fernet key
    path = tmp_path / "secrets" / "token-encryption-key"
    assert path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["token-encryption-key"]
    again = EnvSecretStore.from_settings(settings)
    again._environ = {}
    assert (await again.get("token-encryption-key")).get_secret_value() == key
    with pytest.raises(SecretNotFound):
        await again.get("whoop-client-secret")  # only the token key is ever generated


async def test_env_variable_wins_over_generated_key(tmp_path: Path) -> None:
    store = EnvSecretStore.from_settings(PlatformSettings(data_dir=tmp_path))
    store._environ = {"WDP_SECRET_TOKEN_ENCRYPTION_KEY": "from-env"}
    assert (await store.get("token-encryption-key")).get_secret_value() == "from-env"
    assert not (tmp_path / "secrets").exists()


async def test_azure_profile_never_generates(tmp_path: Path) -> None:
    settings = PlatformSettings(
        data_dir=tmp_path,
        profile="azure",
        servicebus_fully_qualified_namespace="ns.servicebus.windows.net",
        blob_account_url="https://acct.blob.core.windows.net",
    )
    store = EnvSecretStore.from_settings(settings)
    store._environ = {}
    with pytest.raises(SecretNotFound):
        await store.get("token-encryption-key")
    assert not (tmp_path / "secrets").exists()


@dataclass
class _Secret:
    value: str | None


class FakeSecretClient:
    """Thin fake of ``azure.keyvault.secrets.aio.SecretClient``: get_secret + close only."""

    def __init__(self, values: dict[str, str | None]) -> None:
        self.values = values
        self.calls: list[str] = []
        self.fail: Exception | None = None
        self.closed = False

    async def get_secret(self, name: str) -> _Secret:
        self.calls.append(name)
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        if name not in self.values:
            raise ResourceNotFoundError(f"SecretNotFound: {name}")
        return _Secret(self.values[name])

    async def close(self) -> None:
        self.closed = True


async def test_keyvault_mapping_with_fake_client_caches_for_ttl() -> None:
    now = [100.0]
    client = FakeSecretClient({"whoop-client-secret": "v1"})
    store = KeyVaultSecretStore(client, ttl_s=60, clock=lambda: now[0])
    results = await asyncio.gather(*(store.get("whoop-client-secret") for _ in range(5)))
    assert {r.get_secret_value() for r in results} == {"v1"}
    assert client.calls == ["whoop-client-secret"]  # one fetch for concurrent callers
    client.values["whoop-client-secret"] = "v2"
    now[0] += 59
    assert (await store.get("whoop-client-secret")).get_secret_value() == "v1"
    now[0] += 2
    assert (await store.get("whoop-client-secret")).get_secret_value() == "v2"
    assert len(client.calls) == 2
    await store.close()
    assert client.closed


async def test_keyvault_mapping_with_fake_client_maps_errors() -> None:
    client = FakeSecretClient({"empty": None})
    store = KeyVaultSecretStore(client)
    with pytest.raises(SecretNotFound):
        await store.get("absent")
    with pytest.raises(SecretNotFound):
        await store.get("empty")
    client.fail = ServiceRequestError("dns")
    with pytest.raises(KeyVaultUnavailable):
        await store.get("anything")


def test_keyvault_from_settings_needs_vault_url() -> None:
    with pytest.raises(ConfigurationError):
        KeyVaultSecretStore.from_settings(PlatformSettings())


def test_composition_picks_key_vault_only_when_a_vault_url_is_set(tmp_path: Path) -> None:
    from shared.composition import build_secret_store

    assert isinstance(build_secret_store(PlatformSettings(data_dir=tmp_path)), EnvSecretStore)
    azure = PlatformSettings(
        data_dir=tmp_path,
        profile="azure",
        servicebus_fully_qualified_namespace="ns.servicebus.windows.net",
        blob_account_url="https://acct.blob.core.windows.net",
    )
    assert isinstance(build_secret_store(azure), EnvSecretStore)  # compose: no Key Vault
    with_vault = azure.model_copy(update={"key_vault_url": "https://kv.vault.azure.net"})
    assert isinstance(build_secret_store(with_vault), KeyVaultSecretStore)
