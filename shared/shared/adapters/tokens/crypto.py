"""Token encryption at rest (Fernet = AES-128-CBC + HMAC-SHA256, authenticated).

The key comes from the SecretStore (env locally, Key Vault in Azure). Any secret string works:
a valid Fernet key is used as is, anything else is stretched with SHA-256 into one, so operators
can rotate by setting a new random value.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from shared.errors import ConfigurationError
from shared.ports.tokens import StoredTokens


def fernet_from_secret(secret: SecretStr) -> Fernet:
    """Build the cipher from the stored secret (never logged)."""
    raw = secret.get_secret_value()
    if not raw:
        raise ConfigurationError("the token encryption key is empty")
    try:
        return Fernet(raw.encode())
    except ValueError:
        digest = hashlib.sha256(raw.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_tokens(cipher: Fernet, tokens: StoredTokens) -> bytes:
    """Serialise and encrypt a token pair."""
    plain = json.dumps(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at.isoformat(),
            "scope": tokens.scope,
        }
    ).encode()
    return cipher.encrypt(plain)


def decrypt_tokens(cipher: Fernet, blob: bytes) -> StoredTokens:
    """Decrypt a token pair.

    Raises:
        ConfigurationError: the ciphertext was made with another key (key rotated without
            re-encrypting), so the service must not guess.
    """
    from datetime import datetime

    try:
        data = json.loads(cipher.decrypt(blob))
    except InvalidToken as exc:
        raise ConfigurationError("stored tokens cannot be decrypted with the current key") from exc
    return StoredTokens(
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
        expires_at=datetime.fromisoformat(data["expires_at"]),
        scope=data["scope"],
    )
