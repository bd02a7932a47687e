"""The ``TokenStore`` port: connected users and their WHOOP OAuth tokens, encrypted at rest.

Rotating refresh tokens die on reuse, so the store offers a per-user, cross-process lock
(``refresh_lock``) that makes concurrent workers perform exactly one refresh.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

UserStatus = Literal["active", "needs_reauth", "disconnected"]


@dataclass(frozen=True)
class StoredTokens:
    """Decrypted token pair (only ever held in memory)."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: str


@dataclass(frozen=True)
class UserRecord:
    """A connected WHOOP member."""

    user_id: int
    status: UserStatus
    connected_at: datetime
    updated_at: datetime
    email: str | None = None
    status_reason: str | None = None


class TokenStore(abc.ABC):
    """Users and encrypted tokens; the adapter encrypts before anything touches storage."""

    @abc.abstractmethod
    async def save_tokens(self, user_id: int, tokens: StoredTokens) -> None:
        """Persist (encrypted) the latest token pair for a user, creating the user if new."""

    @abc.abstractmethod
    async def load_tokens(self, user_id: int) -> StoredTokens | None:
        """The latest token pair, decrypted, or ``None``."""

    @abc.abstractmethod
    def refresh_lock(
        self, user_id: int, timeout_s: float = 30.0
    ) -> AbstractAsyncContextManager[None]:
        """Hold a per-user lock across processes while refreshing."""

    @abc.abstractmethod
    async def upsert_user(
        self,
        user_id: int,
        *,
        status: UserStatus,
        email: str | None = None,
        status_reason: str | None = None,
    ) -> UserRecord:
        """Create or update a user's registration and status."""

    @abc.abstractmethod
    async def get_user(self, user_id: int) -> UserRecord | None:
        """One user, or ``None``."""

    @abc.abstractmethod
    def list_users(self) -> AsyncIterator[UserRecord]:
        """Every registered user."""

    @abc.abstractmethod
    async def delete_tokens(self, user_id: int) -> None:
        """Forget a user's tokens (disconnect)."""

    @abc.abstractmethod
    async def delete_user(self, user_id: int) -> None:
        """Forget the member entirely: tokens and the user record (purge, "delete my data")."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
