"""``EnvSecretStore``: secrets from environment variables (local profile, CI, docker-compose).

Name → variable mapping (documented in docs/messaging.md, "Secrets"):

* explicit names first (:data:`EXPLICIT_ENV`), e.g. ``whoop-client-secret`` ←
  ``WDP_WHOOP_CLIENT_SECRET``, because that variable predates the generic rule and is what
  the WHOOP developer dashboard tells people to set;
* otherwise ``WDP_SECRET_<NAME>``, upper-cased with ``-`` and ``.`` turned into ``_``
  (``token-encryption-key`` ← ``WDP_SECRET_TOKEN_ENCRYPTION_KEY``).

Zero-config local runs: in the local profile with ``WDP_ENVIRONMENT=dev`` a missing
token-encryption key is generated once (a Fernet key) and persisted with mode 0600 under
``<data_dir>/secrets/`` so every process, and every later run, encrypts and decrypts tokens
with the same key. It is never generated in the Azure profile or outside ``dev``: there a
missing key is a configuration error (:mod:`shared.startup_checks`), not something to invent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

from shared.ports.secrets import SecretNotFound, SecretStore
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

EXPLICIT_ENV: Mapping[str, str] = {
    "whoop-client-secret": "WDP_WHOOP_CLIENT_SECRET",
}


def env_var_for(name: str) -> str:
    """The environment variable that holds secret ``name``."""
    explicit = EXPLICIT_ENV.get(name)
    if explicit is not None:
        return explicit
    return "WDP_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class EnvSecretStore(SecretStore):
    """Reads secrets from an environment mapping; can generate local-only keys.

    Args:
        environ: where to look (``os.environ`` by default; tests pass a dict).
        generated_dir: folder for keys generated on first use; ``None`` disables generation.
        generate: names that may be generated when absent (the token encryption key).
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        generated_dir: Path | None = None,
        generate: frozenset[str] = frozenset(),
    ) -> None:
        self._environ = environ
        self.generated_dir = generated_dir
        self.generate = generate

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> EnvSecretStore:
        """Local dev: generate the token key under ``<data_dir>/secrets``; never elsewhere."""
        if settings.profile == "local" and settings.environment == "dev":
            return cls(
                generated_dir=settings.data_dir / "secrets",
                generate=frozenset({settings.token_encryption_key_name}),
            )
        return cls()

    async def get(self, name: str) -> SecretStr:
        """The secret from its env variable, a generated local key, or :class:`SecretNotFound`."""
        environ = os.environ if self._environ is None else self._environ
        var = env_var_for(name)
        value = environ.get(var)
        if value:
            return SecretStr(value)
        if self.generated_dir is not None and name in self.generate:
            return SecretStr(await asyncio.to_thread(self._load_or_generate, name))
        raise SecretNotFound(name, f"environment variable {var}")

    def _load_or_generate(self, name: str) -> str:
        """Read the persisted key, or create it atomically (first process wins the race)."""
        assert self.generated_dir is not None
        target = self.generated_dir / name
        with contextlib.suppress(FileNotFoundError):
            existing = target.read_text().strip()
            if existing:
                return existing
        self.generated_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Fernet.generate_key().decode()
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=self.generated_dir)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp_name, target)  # atomic "create if absent" across processes
            except FileExistsError:
                return target.read_text().strip()
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        log.info(
            "generated local secret (local profile only)",
            extra={"secret_name": name, "path": str(target)},
        )
        return key
