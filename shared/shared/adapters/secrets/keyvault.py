"""``KeyVaultSecretStore``: secrets from Azure Key Vault via managed identity.

Secret names are Key Vault names as-is (``whoop-client-secret``, ``token-encryption-key``):
Key Vault allows only letters, digits and ``-``, which is why our names use dashes.

Values are cached for a short TTL because every token refresh and every OAuth exchange asks
for them, and Key Vault throttles (and bills) per call; the TTL bounds how long a rotated
secret keeps being served by a running process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from pydantic import SecretStr

from shared.errors import ConfigurationError, TransientError
from shared.ports.secrets import SecretNotFound, SecretStore
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 300.0


class KeyVaultUnavailable(TransientError):
    """Key Vault could not be reached; retry later."""


class KeyVaultSecretStore(SecretStore):
    """Read-through TTL cache in front of ``SecretClient.get_secret``.

    Args:
        client: an ``azure.keyvault.secrets.aio.SecretClient`` (tests pass a thin fake).
        ttl_s: how long a value is served from memory.
        credential: closed together with the client when we created it.
        clock: monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        client: Any,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        credential: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._credential = credential
        self._clock = clock
        self._cache: dict[str, tuple[float, SecretStr]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> KeyVaultSecretStore:
        """``SecretClient`` on ``WDP_KEY_VAULT_URL`` with ``DefaultAzureCredential``.

        Raises:
            ConfigurationError: ``WDP_KEY_VAULT_URL`` is not set.
        """
        if not settings.key_vault_url:
            raise ConfigurationError("KeyVaultSecretStore needs WDP_KEY_VAULT_URL")
        from azure.identity.aio import DefaultAzureCredential
        from azure.keyvault.secrets.aio import SecretClient

        credential = DefaultAzureCredential()
        return cls(SecretClient(settings.key_vault_url, credential), credential=credential)

    async def get(self, name: str) -> SecretStr:
        """The secret's current value (cached for ``ttl_s``).

        Raises:
            SecretNotFound: no such secret (or it has no value).
            KeyVaultUnavailable: network trouble.
        """
        cached = self._cache.get(name)
        if cached is not None and self._clock() < cached[0]:
            return cached[1]
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:  # one fetch per name, however many callers wait
            cached = self._cache.get(name)
            if cached is not None and self._clock() < cached[0]:
                return cached[1]
            try:
                secret = await self.client.get_secret(name)
            except ResourceNotFoundError as exc:
                raise SecretNotFound(name, "Key Vault") from exc
            except (ServiceRequestError, ServiceResponseError) as exc:
                raise KeyVaultUnavailable(f"Key Vault unreachable reading {name!r}") from exc
            if secret.value is None:
                raise SecretNotFound(name, "Key Vault (secret has no value)")
            value = SecretStr(secret.value)
            self._cache[name] = (self._clock() + self.ttl_s, value)
            log.debug("secret fetched from Key Vault", extra={"secret_name": name})
            return value

    async def close(self) -> None:
        """Close the client (and the credential we created)."""
        await self.client.close()
        if self._credential is not None:
            await self._credential.close()
