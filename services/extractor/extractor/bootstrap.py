"""The extractor's composition root: settings → adapters → :class:`Extractor` → runner.

Nothing connects at import; tests call :func:`bootstrap` with fakes or with an httpx client
bound to the simulator's ASGI app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from extractor.handlers import Extractor
from extractor.settings import ExtractorSettings
from extractor.state import ExtractorState
from shared.composition import (
    close_owned,
    own_blob_store,
    own_bus,
    own_job_store,
    own_secret_store,
    own_token_store,
)
from shared.contracts import Topic
from shared.errors import ConfigurationError
from shared.jobs import JobStore
from shared.ports import BlobStore, MessageBus, SecretStore, TokenStore
from shared.runtime import Consumer, ServiceRunner
from shared.settings import PlatformSettings
from shared.startup_checks import (
    load_whoop_client_secret,
    refuse_development_defaults,
    token_key_violations,
    whoop_app_violations,
)
from shared.whoop_auth import TokenProvider, WhoopOAuth
from shared.whoop_client import RetryPolicy, WhoopClient
from shared.whoop_ratelimit import RateLimiter, RateLimits, build_rate_limiter

SERVICE = "extractor"


def build_extractor_rate_limiter(
    platform: PlatformSettings, settings: ExtractorSettings
) -> RateLimiter:
    """App-wide limiter (see :mod:`shared.whoop_ratelimit`)."""
    return build_rate_limiter(
        platform,
        RateLimits(
            per_minute=settings.rate_limit_per_minute,
            per_day=settings.rate_limit_per_day,
            margin_s=settings.rate_limit_margin_s,
            backfill_reserve_per_minute=settings.rate_limit_backfill_reserve_per_minute,
            backfill_reserve_per_day=settings.rate_limit_backfill_reserve_per_day,
        ),
    )


@dataclass
class ExtractorApp:
    """Everything a running extractor holds; ``close()`` releases it."""

    extractor: Extractor
    bus: MessageBus
    blobs: BlobStore
    tokens: TokenStore
    secrets: SecretStore
    jobs: JobStore
    http: httpx.AsyncClient
    limiter: RateLimiter
    platform: PlatformSettings
    settings: ExtractorSettings
    _owned: list[Callable[[], object]] = field(default_factory=list)

    def consumers(self) -> list[Consumer]:
        """One consumer per subscribed topic; long syncs renew their peek-lock."""
        ex = self.extractor
        renew = max(1.0, self.platform.bus_lock_duration_s / 3)
        return [
            Consumer(
                self.bus,
                Topic.WEBHOOK_RECEIVED,
                SERVICE,
                handler=ex.handle_webhook,
                lock_renew_interval_s=renew,
                max_messages=self.settings.max_messages,
            ),
            Consumer(
                self.bus,
                Topic.SYNC_REQUESTED,
                SERVICE,
                handler=ex.handle_sync,
                lock_renew_interval_s=renew,
            ),
            Consumer(
                self.bus,
                Topic.USER_CONNECTED,
                SERVICE,
                handler=ex.handle_connected,
                lock_renew_interval_s=renew,
            ),
            Consumer(
                self.bus,
                Topic.USER_DISCONNECTED,
                SERVICE,
                handler=ex.handle_disconnected,
                lock_renew_interval_s=renew,
            ),
        ]

    def runner(self) -> ServiceRunner:
        """Consumers plus the periodic reconciliation job."""
        return ServiceRunner(
            SERVICE,
            self.consumers(),
            health_dir=self.platform.data_dir / "health",
            periodic=[(self.settings.reconcile_interval_s, self._reconcile)],
        )

    async def _reconcile(self) -> None:
        await self.extractor.reconcile_all()

    async def close(self) -> None:
        """Close what bootstrap created (not what the caller passed in)."""
        await close_owned(self._owned)


async def bootstrap(
    settings: ExtractorSettings | None = None,
    *,
    platform: PlatformSettings | None = None,
    bus: MessageBus | None = None,
    blobs: BlobStore | None = None,
    tokens: TokenStore | None = None,
    secrets: SecretStore | None = None,
    jobs: JobStore | None = None,
    http: httpx.AsyncClient | None = None,
    limiter: RateLimiter | None = None,
    state: ExtractorState | None = None,
) -> ExtractorApp:
    """Build the extractor from settings; any port can be overridden (tests, the CLI)."""
    settings = settings or ExtractorSettings()
    platform = platform or PlatformSettings()
    owned: list[Callable[[], object]] = []
    secrets = own_secret_store(secrets, platform, owned)
    loaded_secret = await load_whoop_client_secret(platform, secrets)
    if platform.environment != "dev":
        # Every offending setting in one error, before anything connects.
        refuse_development_defaults(
            platform.environment,
            [
                *whoop_app_violations(platform, loaded_secret),
                *await token_key_violations(platform, secrets),
            ],
        )
    if loaded_secret is None:  # reported above; unreachable past the check
        raise ConfigurationError("WHOOP client secret is not set")
    client_secret = loaded_secret
    bus = await own_bus(bus, platform, owned)
    blobs = own_blob_store(blobs, platform, owned, bus=bus)
    tokens = await own_token_store(tokens, platform, secrets, owned)
    jobs = own_job_store(jobs, platform, owned)
    if http is None:
        http = httpx.AsyncClient(timeout=settings.request_timeout_s)
        owned.append(http.aclose)
    if limiter is None:
        limiter = build_extractor_rate_limiter(platform, settings)
        owned.append(limiter.close)
    oauth = WhoopOAuth(
        http,
        oauth_base_url=platform.whoop_oauth_base_url,
        client_id=platform.whoop_client_id,
        client_secret=client_secret,
    )
    provider = TokenProvider(tokens, oauth, refresh_margin=timedelta(minutes=5))
    client = WhoopClient(
        http,
        base_url=platform.whoop_api_base_url,
        tokens=provider,
        limiter=limiter,
        retry=RetryPolicy(settings.max_attempts, settings.backoff_base_s, settings.backoff_cap_s),
    )
    extractor = Extractor(
        client=client,
        blobs=blobs,
        state=state or ExtractorState.from_settings(platform),
        jobs=jobs,
        tokens=tokens,
        bus=bus,
        settings=settings,
    )
    return ExtractorApp(
        extractor, bus, blobs, tokens, secrets, jobs, http, limiter, platform, settings, owned
    )
