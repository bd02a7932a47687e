"""Adapter factories: the only place that turns ``WDP_PROFILE`` into concrete classes.

Each service's ``bootstrap()`` calls these; nothing else branches on local vs Azure. Imports are
lazy so a local process never imports the Azure or Snowflake SDKs it does not use.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from shared.jobs import JobStore, SqliteJobStore
from shared.ports import BlobStore, MessageBus, SecretStore, TokenStore, Warehouse
from shared.settings import PlatformSettings


def build_bus(settings: PlatformSettings) -> MessageBus:
    """LocalBus (SQLite) locally, Service Bus in Azure."""
    if settings.profile == "azure":
        from shared.adapters.bus.servicebus import ServiceBusBus

        return ServiceBusBus.from_settings(settings)
    from shared.adapters.bus.local import LocalBus

    return LocalBus.from_settings(settings)


def build_blob_store(settings: PlatformSettings, bus: MessageBus | None = None) -> BlobStore:
    """Filesystem locally, ADLS Gen2 in Azure; ``bus`` receives BlobCreated when we emit them."""
    if settings.profile == "azure" or settings.blob_connection_string is not None:
        from shared.adapters.blob.azure import AzureBlobStore

        return AzureBlobStore.from_settings(settings, bus=bus)
    from shared.adapters.blob.local import LocalBlobStore

    return LocalBlobStore.from_settings(settings, bus=bus)


def build_warehouse(settings: PlatformSettings) -> Warehouse:
    """DuckDB (embedded default) or Snowflake."""
    if settings.warehouse == "snowflake":
        from shared.adapters.warehouse.snowflake import SnowflakeWarehouse

        return SnowflakeWarehouse.from_settings(settings)
    from shared.adapters.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse.from_settings(settings)


def build_reader_warehouse(settings: PlatformSettings) -> Warehouse:
    """What readers (dashboard, ``wdp warehouse query``) query: the published, audited version.

    DuckDB: the published file, read-only and lock-free, so a reader never waits on a load or
    a dbt build. Snowflake readers never block on writers anyway; they address the
    ``*_PUBLISHED`` schemas through their schema settings.
    """
    if settings.warehouse == "snowflake":
        from shared.adapters.warehouse.snowflake import SnowflakeWarehouse

        return SnowflakeWarehouse.from_settings(settings)
    from shared.adapters.warehouse.published import PublishedDuckDB

    return PublishedDuckDB(settings.duckdb_published_file)


def build_job_store(settings: PlatformSettings) -> JobStore:
    """SQLite in the local profile; JSON blobs with ETag concurrency in Azure (or Azurite)."""
    if settings.profile == "azure" or settings.blob_connection_string is not None:
        from shared.adapters.jobs_azure import BlobJobStore

        return BlobJobStore.from_settings(settings)
    return SqliteJobStore.from_settings(settings)


def build_secret_store(settings: PlatformSettings) -> SecretStore:
    """Key Vault when ``WDP_KEY_VAULT_URL`` is set (Azure), environment variables otherwise.

    Keyed on the vault URL rather than the profile so the Azure profile also runs where no
    Key Vault exists (docker-compose with emulators); there ``EnvSecretStore`` never generates
    keys, so a missing secret still fails loudly.
    """
    if settings.key_vault_url:
        from shared.adapters.secrets.keyvault import KeyVaultSecretStore

        return KeyVaultSecretStore.from_settings(settings)
    from shared.adapters.secrets.env import EnvSecretStore

    return EnvSecretStore.from_settings(settings)


async def build_token_store(settings: PlatformSettings, secrets: SecretStore) -> TokenStore:
    """Encrypted token store; the encryption key comes from the SecretStore."""
    key = await secrets.get(settings.token_encryption_key_name)
    if settings.profile == "azure":
        # One Fernet-encrypted blob per user; blob leases are the cross-replica refresh lock.
        from shared.adapters.tokens.azure_blob import AzureBlobTokenStore

        return AzureBlobTokenStore.from_settings(settings, encryption_key=key)
    from shared.adapters.tokens.sqlite import SqliteTokenStore

    return SqliteTokenStore.from_settings(settings, encryption_key=key)


async def close_owned(closers: Sequence[Callable[[], object]]) -> None:
    """Call each closer in reverse order of creation, awaiting those that return awaitables.

    A bootstrap records the ``close`` of every adapter it built itself (never of those the
    caller passed in) and closes them last-built-first, so a store is closed before the bus
    it publishes to. Adapters mix sync and async ``close``, hence the awaitable check.
    """
    for closer in reversed(closers):
        result = closer()
        if inspect.isawaitable(result):
            await result


# A bootstrap accepts any port from its caller (tests, the CLI) and builds the rest itself;
# what it builds it must also close. These helpers do both halves in one call, appending the
# closer to the bootstrap's ``owned`` list, which :func:`close_owned` later runs in reverse.


async def own_bus(
    bus: MessageBus | None, settings: PlatformSettings, owned: list[Callable[[], object]]
) -> MessageBus:
    """``bus``, or a new one with its topics and subscriptions ensured (and owned)."""
    if bus is not None:
        return bus
    built = build_bus(settings)
    await built.ensure_topology()
    owned.append(built.close)
    return built


def own_blob_store(
    blobs: BlobStore | None,
    settings: PlatformSettings,
    owned: list[Callable[[], object]],
    *,
    bus: MessageBus | None,
) -> BlobStore:
    """``blobs``, or a new store (owned); ``bus`` as in :func:`build_blob_store`."""
    if blobs is not None:
        return blobs
    built = build_blob_store(settings, bus=bus)
    owned.append(built.close)
    return built


def own_secret_store(
    secrets: SecretStore | None, settings: PlatformSettings, owned: list[Callable[[], object]]
) -> SecretStore:
    """``secrets``, or a new secret store (owned)."""
    if secrets is not None:
        return secrets
    built = build_secret_store(settings)
    owned.append(built.close)
    return built


async def own_token_store(
    tokens: TokenStore | None,
    settings: PlatformSettings,
    secrets: SecretStore,
    owned: list[Callable[[], object]],
) -> TokenStore:
    """``tokens``, or a new encrypted token store keyed from ``secrets`` (owned)."""
    if tokens is not None:
        return tokens
    built = await build_token_store(settings, secrets)
    owned.append(built.close)
    return built


def own_job_store(
    jobs: JobStore | None, settings: PlatformSettings, owned: list[Callable[[], object]]
) -> JobStore:
    """``jobs``, or a new job store (owned)."""
    if jobs is not None:
        return jobs
    built = build_job_store(settings)
    owned.append(built.close)
    return built
