"""WHOOP OAuth: authorize URL, code exchange, and single-flight refresh of rotating tokens.

Shared by the receiver (connect, revoke) and the extractor (every API call needs a fresh access
token), which must not import each other. WHOOP rotates refresh tokens on every refresh and a
reused one fails with ``invalid_grant``, so :class:`TokenProvider` refreshes under the store's
per-user cross-process lock, re-reads storage after acquiring it (another worker may already
have rotated), and persists the new pair *before* anyone uses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from shared.errors import TerminalError, TransientError
from shared.ports.tokens import StoredTokens, TokenStore

log = logging.getLogger(__name__)

ALL_SCOPES: tuple[str, ...] = (
    "offline",
    "read:recovery",
    "read:cycles",
    "read:workout",
    "read:sleep",
    "read:profile",
    "read:body_measurement",
)


class OAuthError(TerminalError):
    """The token endpoint refused the request (RFC 6749 error body)."""

    def __init__(self, error: str, description: str = "") -> None:
        self.error = error
        self.description = description
        super().__init__(f"WHOOP OAuth error {error!r}: {description}")


class InvalidGrant(OAuthError):
    """The code or refresh token is expired, revoked or already used."""


class ReauthRequired(TerminalError):
    """The user must go through consent again; their messages are terminal until then."""

    def __init__(self, user_id: int, reason: str) -> None:
        self.user_id = user_id
        self.reason = reason
        super().__init__(f"user {user_id} needs re-authorisation: {reason}")


class UnknownUser(TerminalError):
    """No tokens are stored for this user (never connected, or disconnected)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(f"no WHOOP tokens stored for user {user_id}")


class OAuthUnavailable(TransientError):
    """The token endpoint timed out or answered 5xx; try again later."""


class WhoopOAuth:
    """Calls WHOOP's OAuth endpoints with client_secret_post (Basic auth is refused by WHOOP)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_base_url: str,
        client_id: str,
        client_secret: SecretStr,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self.oauth_base_url = oauth_base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self.refresh_calls = 0

    def authorize_url(
        self, *, state: str, redirect_uri: str, scopes: tuple[str, ...] = ALL_SCOPES
    ) -> str:
        """The consent URL; the client secret is never part of it."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(scopes),
                "state": state,
            }
        )
        return f"{self.oauth_base_url}/auth?{query}"

    async def exchange_code(self, code: str, redirect_uri: str) -> StoredTokens:
        """Authorization code → token pair."""
        return await self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )

    async def refresh(self, refresh_token: str) -> StoredTokens:
        """Rotate: the old refresh token is dead once this returns."""
        self.refresh_calls += 1
        return await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": "offline"}
        )

    async def _token_request(self, form: dict[str, str]) -> StoredTokens:
        data = {
            **form,
            "client_id": self.client_id,
            "client_secret": self._client_secret.get_secret_value(),
        }
        try:
            resp = await self._http.post(f"{self.oauth_base_url}/token", data=data)
        except httpx.TransportError as exc:
            raise OAuthUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise OAuthUnavailable(f"token endpoint answered {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise OAuthUnavailable("token endpoint returned a truncated/invalid body") from exc
        if resp.status_code != 200:
            error = str(body.get("error", f"http_{resp.status_code}"))
            description = str(body.get("error_description", ""))
            if error == "invalid_grant":
                raise InvalidGrant(error, description)
            raise OAuthError(error, description)
        return StoredTokens(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_at=self._clock() + timedelta(seconds=int(body.get("expires_in", 3600))),
            scope=str(body.get("scope", "")),
        )


class TokenProvider:
    """Hands out valid access tokens, refreshing ahead of expiry exactly once across workers.

    Args:
        store: the encrypted token store (its ``refresh_lock`` is the cross-process mutex).
        oauth: the token endpoint client.
        refresh_margin: refresh when less than this is left (WHOOP suggests ahead-of-time).
    """

    def __init__(
        self,
        store: TokenStore,
        oauth: WhoopOAuth,
        *,
        refresh_margin: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.oauth = oauth
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._local_locks: dict[int, asyncio.Lock] = {}

    def _fresh(self, tokens: StoredTokens) -> bool:
        return tokens.expires_at - self._clock() > self.refresh_margin

    async def _load(self, user_id: int) -> StoredTokens:
        user = await self.store.get_user(user_id)
        if user is not None and user.status == "needs_reauth":
            raise ReauthRequired(user_id, user.status_reason or "needs re-authorisation")
        tokens = await self.store.load_tokens(user_id)
        if tokens is None:
            raise UnknownUser(user_id)
        return tokens

    async def access_token(self, user_id: int) -> str:
        """A token valid for at least ``refresh_margin``.

        Raises:
            ReauthRequired: the user must consent again (terminal for their messages).
            UnknownUser: nothing stored for the user.
            OAuthUnavailable: the token endpoint is down (transient).
        """
        tokens = await self._load(user_id)
        if self._fresh(tokens):
            return tokens.access_token
        return await self._refresh(user_id, stale_access_token=None)

    async def force_refresh(self, user_id: int, stale_access_token: str) -> str:
        """After a 401: refresh unless another worker already replaced ``stale_access_token``."""
        return await self._refresh(user_id, stale_access_token=stale_access_token)

    async def _refresh(self, user_id: int, *, stale_access_token: str | None) -> str:
        local = self._local_locks.setdefault(user_id, asyncio.Lock())
        async with local, self.store.refresh_lock(user_id):
            tokens = await self._load(user_id)  # re-read: someone may have rotated already
            if stale_access_token is None and self._fresh(tokens):
                return tokens.access_token
            if stale_access_token is not None and tokens.access_token != stale_access_token:
                return tokens.access_token
            if not tokens.refresh_token:
                await self._mark_reauth(user_id, "no refresh token (offline scope not granted)")
                raise ReauthRequired(user_id, "no refresh token")
            try:
                new = await self.oauth.refresh(tokens.refresh_token)
            except InvalidGrant as exc:
                reason = f"refresh token rejected by WHOOP (invalid_grant): {exc.description}"
                await self._mark_reauth(user_id, reason)
                raise ReauthRequired(user_id, reason) from exc
            if new.refresh_token is None:
                new = StoredTokens(
                    new.access_token, tokens.refresh_token, new.expires_at, new.scope
                )
            await self.store.save_tokens(user_id, new)  # persist before anyone uses it
            log.info("refreshed WHOOP tokens", extra={"user_id": user_id})
            return new.access_token

    async def mark_reauth(self, user_id: int, reason: str) -> None:
        """Public: the API refused a freshly refreshed token (revoked in the WHOOP app)."""
        await self._mark_reauth(user_id, reason)

    async def _mark_reauth(self, user_id: int, reason: str) -> None:
        user = await self.store.get_user(user_id)
        await self.store.upsert_user(
            user_id,
            status="needs_reauth",
            email=None if user is None else user.email,
            status_reason=reason,
        )
        log.warning("user needs re-authorisation", extra={"user_id": user_id, "reason": reason})


__all__ = [
    "ALL_SCOPES",
    "InvalidGrant",
    "OAuthError",
    "OAuthUnavailable",
    "ReauthRequired",
    "TokenProvider",
    "UnknownUser",
    "WhoopOAuth",
]
