"""The receiver's composition root; FastAPI's lifespan calls :func:`bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from receiver.adapters.state import ReceiverState, SqliteReceiverState
from receiver.auth import ApiKeyAuthenticator, Authenticator, EntraTokenVerifier
from receiver.handlers import ConnectFlow, SyncService, WebhookIntake
from receiver.settings import ReceiverSettings
from shared.composition import (
    close_owned,
    own_bus,
    own_job_store,
    own_secret_store,
    own_token_store,
)
from shared.errors import ConfigurationError
from shared.jobs import JobStore
from shared.ports import MessageBus, SecretStore, TokenStore
from shared.settings import PlatformSettings
from shared.startup_checks import (
    Violation,
    api_key_violations,
    effective_environment,
    load_whoop_client_secret,
    refuse_development_defaults,
    token_key_violations,
    whoop_app_violations,
)
from shared.whoop_auth import TokenProvider, WhoopOAuth
from shared.whoop_client import WhoopClient
from shared.whoop_ratelimit import RateLimiter, build_rate_limiter

SERVICE = "receiver"


@dataclass
class ReceiverContainer:
    """Everything the routes need (kept on ``app.state.container``)."""

    settings: ReceiverSettings
    platform: PlatformSettings
    bus: MessageBus
    tokens: TokenStore
    jobs: JobStore
    state: ReceiverState
    webhooks: WebhookIntake
    connect: ConnectFlow
    sync: SyncService
    auth: Authenticator
    _owned: list[Callable[[], object]] = field(default_factory=list)

    async def close(self) -> None:
        """Close what bootstrap created (not what the caller passed in)."""
        await close_owned(self._owned)


def build_authenticator(settings: ReceiverSettings) -> Authenticator:
    """API keys always; Entra ID when an audience and a JWKS source are configured."""
    entra = None
    if settings.entra_audience and (settings.entra_jwks_url or settings.entra_jwks_json):
        common = {
            "audience": settings.entra_audience,
            "issuer": settings.entra_issuer,
            "admin_role": settings.entra_admin_role,
            "user_claim": settings.entra_user_claim,
        }
        if settings.entra_jwks_json is not None:
            entra = EntraTokenVerifier.from_json(
                settings.entra_jwks_json.get_secret_value(), **common
            )
        else:
            entra = EntraTokenVerifier(jwks_url=settings.entra_jwks_url, **common)  # type: ignore[arg-type]
    return Authenticator(ApiKeyAuthenticator(settings.api_keys), entra)


def _checked(secret: SecretStr | None) -> SecretStr:
    if secret is None:  # the startup check reports a missing secret; this cannot pass it
        raise ConfigurationError("WHOOP client secret is not set")
    return secret


async def refuse_receiver_dev_defaults(
    settings: ReceiverSettings,
    platform: PlatformSettings,
    secrets: SecretStore,
    client_secret: SecretStr | None,
) -> None:
    """Outside dev: no simulator app, no generated token key, no open or guessable REST API.

    Raises:
        DevelopmentDefaultsRefused: naming every offending setting at once.
    """
    environment = effective_environment(platform.environment, settings.environment)
    if environment == "dev":
        return
    has_entra = bool(
        settings.entra_audience and (settings.entra_jwks_url or settings.entra_jwks_json)
    )
    violations = [
        *whoop_app_violations(platform, client_secret),
        *await token_key_violations(platform, secrets),
        *api_key_violations("WDP_RECEIVER_API_KEYS", settings.api_keys, other_auth=has_entra),
    ]
    if not settings.public_base_url.startswith("https://"):
        violations.append(
            Violation("WDP_RECEIVER_PUBLIC_BASE_URL", "must be https (WHOOP redirects there)")
        )
    refuse_development_defaults(environment, violations)


async def bootstrap(
    settings: ReceiverSettings | None = None,
    *,
    platform: PlatformSettings | None = None,
    bus: MessageBus | None = None,
    tokens: TokenStore | None = None,
    secrets: SecretStore | None = None,
    jobs: JobStore | None = None,
    state: ReceiverState | None = None,
    http: httpx.AsyncClient | None = None,
    limiter: RateLimiter | None = None,
) -> ReceiverContainer:
    """Build the receiver; any port can be overridden (tests pass fakes or ASGI clients)."""
    settings = settings or ReceiverSettings()
    platform = platform or PlatformSettings()
    owned: list[Callable[[], object]] = []
    secrets = own_secret_store(secrets, platform, owned)
    loaded_secret = await load_whoop_client_secret(platform, secrets)
    await refuse_receiver_dev_defaults(settings, platform, secrets, loaded_secret)
    client_secret = _checked(loaded_secret)
    bus = await own_bus(bus, platform, owned)
    tokens = await own_token_store(tokens, platform, secrets, owned)
    jobs = own_job_store(jobs, platform, owned)
    if state is None:
        local_state = SqliteReceiverState.from_settings(platform)
        owned.append(local_state.close)
        state = local_state
    if http is None:
        http = httpx.AsyncClient(timeout=20.0)
        owned.append(http.aclose)
    if limiter is None:
        limiter = build_rate_limiter(platform)
        owned.append(limiter.close)
    oauth = WhoopOAuth(
        http,
        oauth_base_url=platform.whoop_oauth_base_url,
        client_id=platform.whoop_client_id,
        client_secret=client_secret,
    )
    client = WhoopClient(
        http,
        base_url=platform.whoop_api_base_url,
        tokens=TokenProvider(tokens, oauth),
        limiter=limiter,
    )
    return ReceiverContainer(
        settings=settings,
        platform=platform,
        bus=bus,
        tokens=tokens,
        jobs=jobs,
        state=state,
        webhooks=WebhookIntake(bus, state, client_secret, settings),
        connect=ConnectFlow(
            oauth=oauth,
            client=client,
            tokens=tokens,
            bus=bus,
            state=state,
            settings=settings,
            jobs=jobs,
        ),
        sync=SyncService(bus=bus, tokens=tokens, jobs=jobs, settings=settings),
        auth=build_authenticator(settings),
        _owned=owned,
    )
