"""REST authentication: API keys locally, Entra ID bearer tokens pluggable, one dependency.

Both resolve to a :class:`Principal` saying which WHOOP users the caller may read or sync;
routes only ever ask ``principal.may_access(user_id)``, so one member can never touch another's
data whichever way they authenticated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from shared.api_keys import ApiKeyGrant, match_api_key
from shared.errors import PlatformError

log = logging.getLogger(__name__)


class Unauthenticated(PlatformError):
    """No valid credentials (→ 401)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling and what they may touch."""

    subject: str
    admin: bool = False
    user_ids: frozenset[int] = frozenset()

    def may_access(self, user_id: int) -> bool:
        """Admins see everyone; members only their own WHOOP user ids."""
        return self.admin or user_id in self.user_ids


class ApiKeyAuthenticator:
    """Constant-time lookup of ``X-API-Key`` values configured in settings."""

    def __init__(self, keys: Mapping[str, ApiKeyGrant]) -> None:
        self._keys = dict(keys)

    def authenticate(self, presented: str) -> Principal:
        """Return the key's principal.

        Raises:
            Unauthenticated: unknown key.
        """
        match = match_api_key(self._keys, presented)
        if match is None:
            raise Unauthenticated("unknown API key")
        return Principal(subject=match.subject, admin=match.admin, user_ids=match.user_ids)


class EntraTokenVerifier:
    """Validates Entra ID (Azure AD) access tokens: RS256 signature via JWKS, aud, iss, exp.

    Args:
        audience: the API's application id URI / client id.
        issuer: ``https://login.microsoftonline.com/<tenant>/v2.0``.
        jwks: an inline JWKS document (tests, air-gapped) ...
        jwks_url: ... or the tenant's ``discovery/v2.0/keys`` URL (keys cached by PyJWT).
        admin_role: app role that grants access to every user.
        user_claim: claim carrying the caller's WHOOP user id (int or list of ints).
    """

    def __init__(
        self,
        *,
        audience: str,
        issuer: str | None,
        jwks: Mapping[str, Any] | None = None,
        jwks_url: str | None = None,
        admin_role: str = "WDP.Admin",
        user_claim: str = "whoop_user_id",
    ) -> None:
        if (jwks is None) == (jwks_url is None):
            raise ValueError("give exactly one of jwks or jwks_url")
        self.audience = audience
        self.issuer = issuer
        self.admin_role = admin_role
        self.user_claim = user_claim
        self._set = None if jwks is None else jwt.PyJWKSet.from_dict(dict(jwks))
        self._client = None if jwks_url is None else jwt.PyJWKClient(jwks_url)

    @classmethod
    def from_json(cls, jwks_json: str, **kwargs: Any) -> EntraTokenVerifier:
        """Build from an inline JWKS JSON string."""
        return cls(jwks=json.loads(jwks_json), **kwargs)

    def _key(self, token: str) -> Any:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._set is not None
        for key in self._set.keys:
            if key.key_id == kid:
                return key.key
        raise Unauthenticated("token signed by an unknown key")

    def authenticate(self, token: str) -> Principal:
        """Verify and map claims to a principal.

        Raises:
            Unauthenticated: bad signature, wrong audience/issuer, expired, malformed.
        """
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "aud", "sub"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"invalid bearer token: {type(exc).__name__}") from exc
        roles = claims.get("roles") or []
        raw = claims.get(self.user_claim)
        ids = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        return Principal(
            subject=str(claims["sub"]),
            admin=self.admin_role in roles,
            user_ids=frozenset(int(i) for i in ids),
        )


class Authenticator:
    """API key first, then bearer token; whichever the request carries."""

    def __init__(
        self, api_keys: ApiKeyAuthenticator, entra: EntraTokenVerifier | None = None
    ) -> None:
        self.api_keys = api_keys
        self.entra = entra

    def authenticate(self, api_key: str | None, authorization: str | None) -> Principal:
        """Resolve the caller.

        Raises:
            Unauthenticated: nothing valid presented.
        """
        if api_key:
            return self.api_keys.authenticate(api_key)
        if authorization and authorization.lower().startswith("bearer ") and self.entra:
            return self.entra.authenticate(authorization.split(" ", 1)[1].strip())
        raise Unauthenticated("missing credentials (X-API-Key or Authorization: Bearer)")
