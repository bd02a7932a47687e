"""In-memory OAuth 2.0 server with WHOOP's rules (API reference §3).

* Client authentication is ``client_secret_post`` only: HTTP Basic → ``invalid_client``.
* Codes are single use and short-lived; refresh tokens exist only with the ``offline`` scope.
* Refresh tokens **rotate**: a successful refresh kills the old refresh token *and* the old
  access token; reusing the old refresh token → ``invalid_grant``.
* Revoking a user's access kills all of the user's tokens for the app and stops webhooks.

Expiry runs on the wall clock (injectable), not the simulated clock, so advancing simulated
days does not log everybody out.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from whoop_simulator.exceptions import ApiFailure, OAuthFailure

KNOWN_SCOPES = frozenset(
    {
        "offline",
        "read:recovery",
        "read:cycles",
        "read:workout",
        "read:sleep",
        "read:profile",
        "read:body_measurement",
    }
)


@dataclass
class AuthCode:
    user_id: int
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    user_id: int
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    user_id: int
    client_id: str
    scopes: frozenset[str]
    access_token: str
    used: bool = False


class OAuthServer:
    """Codes, tokens and grants of the simulator's one registered app."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_ttl_s: int,
        code_ttl_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.token_ttl_s = token_ttl_s
        self.code_ttl_s = code_ttl_s
        self._clock = clock
        self._codes: dict[str, AuthCode] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._granted: set[int] = set()

    # -- authorize ------------------------------------------------------------------------
    def issue_code(
        self, user_id: int, client_id: str, redirect_uri: str, scopes: frozenset[str]
    ) -> str:
        """Record consent and return a single-use authorization code."""
        code = secrets.token_urlsafe(24)
        self._codes[code] = AuthCode(
            user_id, client_id, redirect_uri, scopes, self._clock() + self.code_ttl_s
        )
        return code

    # -- token endpoint -------------------------------------------------------------------
    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        """Raise ``invalid_client`` (401) unless the form carries this app's credentials."""
        if client_id != self.client_id or client_secret is None:
            raise OAuthFailure("invalid_client", "Client authentication failed", 401)
        if not hmac.compare_digest(client_secret.encode(), self._secret.encode()):
            raise OAuthFailure("invalid_client", "Client authentication failed", 401)

    def exchange_code(self, code: str | None, redirect_uri: str | None) -> dict[str, object]:
        """``authorization_code`` grant."""
        entry = self._codes.get(code or "")
        if entry is None or entry.used or entry.expires_at < self._clock():
            raise OAuthFailure(
                "invalid_grant", "The authorization code is invalid, expired or already used"
            )
        entry.used = True  # any presentation burns the code, as Hydra does
        if redirect_uri != entry.redirect_uri:
            raise OAuthFailure(
                "invalid_grant", "The redirect_uri parameter does not match the authorize request"
            )
        self._granted.add(entry.user_id)
        return self._issue(entry.user_id, entry.client_id, entry.scopes)

    def refresh(self, refresh_token: str | None) -> dict[str, object]:
        """``refresh_token`` grant: rotate both tokens."""
        entry = self._refresh.get(refresh_token or "")
        if entry is None or entry.used:
            raise OAuthFailure(
                "invalid_grant", "The refresh token is invalid, revoked or was already used"
            )
        entry.used = True
        old = self._access.get(entry.access_token)
        if old is not None:
            old.revoked = True
        return self._issue(entry.user_id, entry.client_id, entry.scopes)

    def _issue(self, user_id: int, client_id: str, scopes: frozenset[str]) -> dict[str, object]:
        access = secrets.token_urlsafe(32)
        self._access[access] = AccessToken(
            access, user_id, client_id, scopes, self._clock() + self.token_ttl_s
        )
        out: dict[str, object] = {
            "access_token": access,
            "expires_in": self.token_ttl_s,
            "scope": " ".join(sorted(scopes)),
            "token_type": "bearer",
        }
        if "offline" in scopes:
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = RefreshToken(refresh, user_id, client_id, scopes, access)
            out["refresh_token"] = refresh
        return out

    # -- resource server ------------------------------------------------------------------
    def authenticate(self, authorization: str | None, scope: str | None) -> AccessToken:
        """Resolve a ``Bearer`` header; 401 when missing/unknown/expired/revoked/under-scoped.

        A token without the endpoint's scope also gets 401 (with
        ``WWW-Authenticate: Bearer error="insufficient_scope"``): WHOOP documents only 401.
        """
        challenge = 'Bearer realm="whoop"'
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiFailure(
                401, "invalid_token", "Missing bearer token", {"WWW-Authenticate": challenge}
            )
        token = self._access.get(authorization[7:].strip())
        if token is None or token.revoked or token.expires_at <= self._clock():
            raise ApiFailure(
                401,
                "invalid_token",
                "Authorization was not valid",
                {"WWW-Authenticate": f'{challenge}, error="invalid_token"'},
            )
        if scope is not None and scope not in token.scopes:
            raise ApiFailure(
                401,
                "insufficient_scope",
                f"The access token lacks the {scope} scope",
                {"WWW-Authenticate": f'{challenge}, error="insufficient_scope", scope="{scope}"'},
            )
        return token

    def revoke_user(self, user_id: int) -> None:
        """Kill every token of ``user_id`` and drop its grant (no more webhooks)."""
        for tok in self._access.values():
            if tok.user_id == user_id:
                tok.revoked = True
        for ref in self._refresh.values():
            if ref.user_id == user_id:
                ref.used = True
        self._granted.discard(user_id)

    def has_grant(self, user_id: int) -> bool:
        """Whether the user has authorized the app and not revoked it."""
        return user_id in self._granted
