"""API keys and Entra ID bearer tokens resolve to principals scoped to WHOOP user ids."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from receiver.auth import (
    ApiKeyAuthenticator,
    Authenticator,
    EntraTokenVerifier,
    Unauthenticated,
)

ISSUER = "https://login.microsoftonline.com/tenant/v2.0"
AUD = "api://wdp"


def _keypair(kid: str) -> tuple[Any, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return key, jwk


KEY, JWK = _keypair("k1")
OTHER_KEY, _ = _keypair("k1")


def _token(key: Any = KEY, **claims: Any) -> str:
    body = {"sub": "alice", "aud": AUD, "iss": ISSUER, "exp": int(time.time()) + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def verifier() -> EntraTokenVerifier:
    return EntraTokenVerifier.from_json(json.dumps({"keys": [JWK]}), audience=AUD, issuer=ISSUER)


def test_api_keys_map_to_users_or_admin() -> None:
    auth = ApiKeyAuthenticator({"k-admin": "admin", "k-rosa": [24601]})
    assert auth.authenticate("k-admin").may_access(1)
    rosa = auth.authenticate("k-rosa")
    assert rosa.may_access(24601) and not rosa.may_access(24602)
    with pytest.raises(Unauthenticated):
        auth.authenticate("k-nope")


def test_valid_entra_token(verifier: EntraTokenVerifier) -> None:
    p = verifier.authenticate(_token(whoop_user_id=24601))
    assert p.subject == "alice" and p.may_access(24601) and not p.may_access(1)
    assert verifier.authenticate(_token(roles=["WDP.Admin"])).admin


@pytest.mark.parametrize(
    "token_kwargs",
    [
        {"key": OTHER_KEY},
        {"aud": "api://other"},
        {"iss": "https://evil.example/v2.0"},
        {"exp": int(time.time()) - 10},
    ],
    ids=["bad-signature", "wrong-audience", "wrong-issuer", "expired"],
)
def test_invalid_entra_tokens(verifier: EntraTokenVerifier, token_kwargs: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        verifier.authenticate(_token(**token_kwargs))


def test_authenticator_requires_credentials(verifier: EntraTokenVerifier) -> None:
    auth = Authenticator(ApiKeyAuthenticator({}), verifier)
    with pytest.raises(Unauthenticated):
        auth.authenticate(None, None)
    assert auth.authenticate(None, f"Bearer {_token(whoop_user_id=[1, 2])}").may_access(2)
