"""The ``SecretStore`` port: environment variables locally, Azure Key Vault in Azure."""

from __future__ import annotations

import abc

from pydantic import SecretStr

from shared.errors import ConfigurationError


class SecretNotFound(ConfigurationError):
    """The named secret does not exist in the store."""

    def __init__(self, name: str, where: str) -> None:
        self.name = name
        super().__init__(f"secret {name!r} not found in {where}")


class SecretStore(abc.ABC):
    """Read-only access to named secrets; values never leave as plain ``str`` by accident."""

    @abc.abstractmethod
    async def get(self, name: str) -> SecretStr:
        """Return the secret or raise :class:`SecretNotFound`."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
