"""Refuse to start outside ``dev`` while any development default is still in place.

Every local default (the simulator's WHOOP app, loopback URLs, a generated token key, an
open REST API) is what makes ``make demo`` zero-config, and each one is a hole in production.
The composition roots collect *every* offending setting first and then fail once, so an
operator fixes a deployment in one pass instead of one restart per missing secret.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from shared.errors import ConfigurationError
from shared.ports.secrets import SecretNotFound, SecretStore
from shared.settings import PlatformSettings

DEV_WHOOP_CLIENT_ID = "wdp-local-client"
"""``WDP_WHOOP_CLIENT_ID``'s default: the simulator's app, never a real WHOOP app."""

DEV_WHOOP_CLIENT_SECRETS = frozenset({"wdp-local-client-secret"})
"""Client secrets that are public (the simulator's default ships in this repository)."""

MIN_SECRET_LENGTH = 16
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "password", "test", "dev", "example", "placeholder"}
)


@dataclass(frozen=True)
class Violation:
    """One setting that still holds a development default."""

    setting: str
    problem: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.problem}"


class DevelopmentDefaultsRefused(ConfigurationError):
    """Startup outside ``dev`` found development defaults; names every offending setting."""

    def __init__(self, environment: str, violations: Sequence[Violation]) -> None:
        self.environment = environment
        self.violations = tuple(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(
            f"refusing to start with WDP_ENVIRONMENT={environment}: "
            f"{len(self.violations)} development default(s) in place\n{lines}"
        )


def effective_environment(*environments: str) -> str:
    """The strictest of several stage settings (a service's own one cannot loosen the platform's).

    ``prod`` beats ``test`` beats ``dev``: a receiver left at ``WDP_RECEIVER_ENVIRONMENT=dev``
    in a ``WDP_ENVIRONMENT=prod`` deployment is still production.
    """
    order = {"dev": 0, "test": 1, "prod": 2}
    return max(environments, key=lambda env: order.get(env, 2))


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def weak_secret(value: str) -> bool:
    """Too short to resist guessing, or a well-known placeholder."""
    return len(value) < MIN_SECRET_LENGTH or value.strip().lower() in PLACEHOLDER_SECRETS


async def load_whoop_client_secret(
    platform: PlatformSettings, secrets: SecretStore
) -> SecretStr | None:
    """The WHOOP client secret, or ``None`` outside dev so the check can report it missing.

    Raises:
        SecretNotFound: in ``dev``, where nothing else would explain the failure.
    """
    try:
        return await secrets.get(platform.whoop_client_secret_name)
    except SecretNotFound:
        if platform.environment == "dev":
            raise
        return None


def whoop_app_violations(
    platform: PlatformSettings, client_secret: SecretStr | None
) -> list[Violation]:
    """The WHOOP app settings: the simulator's id, secret and loopback URLs are dev-only."""
    found: list[Violation] = []
    if platform.whoop_client_id == DEV_WHOOP_CLIENT_ID:
        found.append(
            Violation("WDP_WHOOP_CLIENT_ID", "still the simulator's app id; use your WHOOP app's")
        )
    secret = None if client_secret is None else client_secret.get_secret_value()
    if secret is None:
        found.append(
            Violation(f"WHOOP client secret ({platform.whoop_client_secret_name})", "not set")
        )
    elif secret in DEV_WHOOP_CLIENT_SECRETS or weak_secret(secret):
        found.append(
            Violation(
                f"WHOOP client secret ({platform.whoop_client_secret_name})",
                "the simulator's public default or a short/placeholder value",
            )
        )
    for name, url in (
        ("WDP_WHOOP_API_BASE_URL", platform.whoop_api_base_url),
        ("WDP_WHOOP_OAUTH_BASE_URL", platform.whoop_oauth_base_url),
    ):
        if _is_loopback(url) or not url.startswith("https://"):
            found.append(Violation(name, f"{url!r} is the local simulator or not https"))
    return found


async def token_key_violations(platform: PlatformSettings, secrets: SecretStore) -> list[Violation]:
    """The token encryption key must be provisioned; it is generated only in ``dev``."""
    name = platform.token_encryption_key_name
    setting = f"token encryption key ({name})"
    try:
        key = await secrets.get(name)
    except SecretNotFound:
        return [Violation(setting, "not set; outside dev it is never generated")]
    if weak_secret(key.get_secret_value()):
        return [Violation(setting, "too short or a placeholder")]
    return []


def api_key_violations(setting: str, keys: Iterable[str], *, other_auth: bool) -> list[Violation]:
    """An API with no credentials at all, or guessable ones, is open to anyone."""
    keys = list(keys)
    if not keys and not other_auth:
        return [Violation(setting, "no API keys configured (and no other authentication)")]
    weak = [k for k in keys if weak_secret(k)]
    if weak:
        problem = f"{len(weak)} key(s) shorter than 16 characters or placeholders"
        return [Violation(setting, problem)]
    return []


def refuse_development_defaults(environment: str, violations: Sequence[Violation]) -> None:
    """Raise :class:`DevelopmentDefaultsRefused` outside ``dev`` when anything was found.

    In ``dev`` the defaults are the point, so nothing is raised there.
    """
    if environment != "dev" and violations:
        raise DevelopmentDefaultsRefused(environment, violations)


__all__ = [
    "DEV_WHOOP_CLIENT_ID",
    "DEV_WHOOP_CLIENT_SECRETS",
    "DevelopmentDefaultsRefused",
    "Violation",
    "api_key_violations",
    "effective_environment",
    "load_whoop_client_secret",
    "refuse_development_defaults",
    "token_key_violations",
    "weak_secret",
    "whoop_app_violations",
]
