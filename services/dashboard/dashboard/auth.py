"""API-key authentication and the one isolation rule every route goes through.

The model mirrors the receiver's: a key maps to ``admin`` or to a set of WHOOP user ids, and
routes only ever ask :meth:`Principal.may_read`. Browsers send the key once through the login
form and carry it in an HttpOnly cookie afterwards; API clients send ``X-API-Key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.exceptions import Forbidden, Unauthenticated
from shared.api_keys import ApiKeyGrant, match_api_key


@dataclass(frozen=True)
class Principal:
    """Who is calling and which members' data they may read."""

    subject: str
    admin: bool = False
    user_ids: frozenset[int] = frozenset()

    def may_read(self, user_id: int) -> bool:
        """Admins read everyone; members only their own WHOOP user ids."""
        return self.admin or user_id in self.user_ids

    def require_user(self, user_id: int) -> None:
        """Raise :class:`Forbidden` unless the caller may read ``user_id``."""
        if not self.may_read(user_id):
            raise Forbidden(f"not allowed to read user {user_id}")

    def require_admin(self) -> None:
        """Platform-wide pages (data quality) have no user dimension, so only admins see them."""
        if not self.admin:
            raise Forbidden("admin key required")


class ApiKeyAuthenticator:
    """Constant-time comparison of a presented key against every configured key."""

    def __init__(self, keys: Mapping[str, ApiKeyGrant]) -> None:
        self._keys = dict(keys)

    @property
    def configured(self) -> bool:
        """False when no key exists: every request is refused with a hint to configure one."""
        return bool(self._keys)

    def authenticate(self, presented: str | None) -> Principal:
        """Resolve a key to its principal.

        Raises:
            Unauthenticated: no key, or an unknown one.
        """
        if not presented:
            raise Unauthenticated("missing API key (X-API-Key header or login)")
        match = match_api_key(self._keys, presented)
        if match is None:
            raise Unauthenticated("unknown API key")
        return Principal(subject=match.subject, admin=match.admin, user_ids=match.user_ids)
