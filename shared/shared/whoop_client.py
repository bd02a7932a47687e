"""The WHOOP API v2 data client: rate limit, retries, 401 refresh, pagination.

Every request takes one grant from the app-wide :class:`~shared.whoop_ratelimit.RateLimiter`
(retries too: WHOOP counts every request). 429 → the limiter pauses every process until
``X-RateLimit-Reset`` (+ jitter); 5xx, timeouts, transport errors and truncated 200 bodies
(JSON that does not parse) → jittered exponential backoff. Bodies are kept as the exact bytes
WHOOP sent so the extractor can write records untouched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from opentelemetry import metrics

from shared.errors import TerminalError, TransientError
from shared.whoop_auth import TokenProvider
from shared.whoop_ratelimit import RateLimiter

log = logging.getLogger(__name__)

WHOOP_REQUESTS_METRIC = "wdp.whoop.requests"
# Every request sent to WHOOP spends the app-wide quota (10,000/day): Azure alerts on the
# 24-hour sum of this counter (AppMetrics) before the quota runs out.
_whoop_requests = metrics.get_meter("wdp.whoop").create_counter(
    WHOOP_REQUESTS_METRIC,
    unit="{request}",
    description="Requests sent to the WHOOP API (each spends the app-wide quota), by status",
)

PAGE_LIMIT = 25


class WhoopNotFound(TerminalError):
    """404: no such record for this user (or, for a fresh cycle, "not yet")."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"WHOOP has no record at {path}")


class WhoopRequestError(TerminalError):
    """4xx other than 401/404/429: our request is wrong and retrying will not help."""


class WhoopScopeMissing(WhoopRequestError):
    """401 with ``error="insufficient_scope"``: the grant lacks this endpoint's scope.

    Refreshing cannot add a scope and the grant itself is fine, so this is neither retried
    nor a reason for ``needs_reauth``; only this endpoint is unavailable until the member
    consents to the scope.
    """


class UnsafeWhoopPath(WhoopRequestError):
    """A path that would leave WHOOP's data API (``..`` segments, an absolute URL, ...).

    Raised before any grant is taken or any token is read, so a hostile id can never make
    us send the user's bearer token to another path or host.
    """


#: Path prefixes of WHOOP's data API that we call; anything else is refused.
ALLOWED_PREFIXES = ("/v2/",)


def path_segment(value: str | int) -> str:
    """One URL path segment, percent-encoded so it cannot add segments or a query.

    ``/``, ``?``, ``#`` and ``%`` are quoted; ``.`` and ``..`` (which httpx, like every RFC
    3986 client, would resolve against the path) and the empty segment are refused.

    Raises:
        UnsafeWhoopPath: the value cannot be one segment.
    """
    text = str(value)
    if text in ("", ".", ".."):
        raise UnsafeWhoopPath(f"{text!r} is not a usable path segment")
    return quote(text, safe="")


def v2_path(*segments: str | int) -> str:
    """``/v2/<segment>/<segment>...`` with every segment quoted by :func:`path_segment`."""
    return "/v2/" + "/".join(path_segment(s) for s in segments)


class WhoopUnavailable(TransientError):
    """WHOOP kept failing (5xx, timeouts, truncated bodies, 429s) after every retry."""


class WhoopAuthRejected(TransientError):
    """WHOOP kept answering 401 although the stored refresh token still refreshes.

    Not a revoked grant (that is ``invalid_grant`` on the stored refresh token, which marks the
    user ``needs_reauth``): other workers kept rotating the token under us, or WHOOP's token
    service lags. Retrying later is right; dead-lettering or demanding re-consent is not.
    """

    def __init__(self, user_id: int, rounds: int) -> None:
        self.user_id = user_id
        super().__init__(f"WHOOP answered 401 for user {user_id} after {rounds} token refreshes")


MAX_AUTH_ROUNDS = 3
"""401 → re-read/refresh → retry rounds per logical request before giving up transiently."""


@dataclass(frozen=True)
class RetryPolicy:
    """Full-jitter exponential backoff: sleep U(0, min(cap, base * 2**attempt))."""

    max_attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (0-based)."""
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


@dataclass
class Page:
    """One collection page: the records, the cursor that fetched it and the next one."""

    records: list[dict[str, Any]]
    cursor: str | None
    next_token: str | None
    fetched_at: datetime


@dataclass
class ClientStats:
    """Counters the benchmarks and health endpoints report."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def iso_z(ts: datetime) -> str:
    """WHOOP's timestamp format: UTC, milliseconds, ``Z`` (no ``+`` to URL-encode)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class WhoopClient:
    """Authenticated, rate-limited GETs against ``/developer/v2``.

    Args:
        http: a shared ``httpx.AsyncClient`` (tests pass one with an ASGI transport).
        base_url: e.g. ``https://api.prod.whoop.com/developer``.
        tokens: single-flight token provider.
        limiter: the app-wide rate limiter.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        tokens: TokenProvider,
        limiter: RateLimiter,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.stats = ClientStats()

    async def request(
        self,
        method: str,
        path: str,
        *,
        user_id: int | None = None,
        access_token: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one logical request with retries; returns the final 2xx response.

        Either ``user_id`` (token from the provider, refreshed once on 401) or an explicit
        ``access_token`` (the receiver's callback, before the user id is known).

        Raises:
            WhoopNotFound: 404.
            WhoopRequestError: other 4xx.
            WhoopUnavailable: retries exhausted (transient).
            ReauthRequired: WHOOP rejected the *stored* refresh token (``invalid_grant``).
            WhoopAuthRejected: 401 kept coming although refreshing works (transient).
            UnsafeWhoopPath: ``path`` would not stay under ``/v2/`` of the base URL.
        """
        url = self._checked_url(path)
        if access_token is None:
            if user_id is None:
                raise ValueError("give user_id or access_token")
            access_token = await self.tokens.access_token(user_id)
        auth_rounds = 0
        attempt = 0
        while True:
            await self.limiter.acquire()
            self.stats.requests += 1
            try:
                resp = await self._http.request(
                    method,
                    url,
                    params=params,
                    headers={"Authorization": f"Bearer {access_token}"},
                )
                body_ok = resp.status_code != 200 or _parses(resp)
            except httpx.TransportError as exc:  # timeouts, resets, short reads
                failure = f"{type(exc).__name__}"
                _whoop_requests.add(1, {"status": "transport_error"})
                resp = None
                body_ok = False
            if resp is not None:
                self.stats.by_status[resp.status_code] = (
                    self.stats.by_status.get(resp.status_code, 0) + 1
                )
                _whoop_requests.add(1, {"status": str(resp.status_code)})
                await self.limiter.observe(resp.status_code, resp.headers)
                if resp.status_code == 429:
                    self.stats.throttled += 1
                    failure = "429"
                elif resp.status_code == 401 and "insufficient_scope" in resp.headers.get(
                    "WWW-Authenticate", ""
                ):
                    raise WhoopScopeMissing(f"{method} {path} → 401 insufficient_scope")
                elif resp.status_code == 401 and user_id is not None:
                    # Another worker may have rotated the token while this request waited in
                    # the limiter: force_refresh re-reads the store under the refresh lock and
                    # only calls WHOOP when the stored token is the one that just failed. Only
                    # invalid_grant on the stored refresh token means the grant is gone.
                    auth_rounds += 1
                    if auth_rounds > MAX_AUTH_ROUNDS:
                        raise WhoopAuthRejected(user_id, MAX_AUTH_ROUNDS)
                    access_token = await self.tokens.force_refresh(user_id, access_token)
                    continue
                elif resp.status_code == 401:
                    raise WhoopRequestError(f"{method} {path} → 401 invalid authorization")
                elif resp.status_code == 404:
                    raise WhoopNotFound(path)
                elif 400 <= resp.status_code < 500:
                    raise WhoopRequestError(f"{method} {path} → {resp.status_code}: {resp.text}")
                elif resp.status_code >= 500:
                    failure = str(resp.status_code)
                elif not body_ok:
                    failure = "truncated body"
                else:
                    return resp
            attempt += 1
            if attempt >= self.retry.max_attempts:
                raise WhoopUnavailable(f"{method} {path} failed {attempt} times (last: {failure})")
            self.stats.retries += 1
            delay = 0.0 if failure == "429" else self.retry.delay(attempt - 1)
            log.info(
                "retrying WHOOP request",
                extra={"path": path, "attempt": attempt, "failure": failure, "delay_s": delay},
            )
            if delay:
                await self._sleep(delay)

    def _checked_url(self, path: str) -> httpx.URL:
        """The absolute URL of ``path``, after the same normalisation httpx applies.

        Dot segments are resolved by httpx when it builds the request, so the check runs on
        the normalised URL: host, scheme and the ``/v2/`` prefix must be the base URL's.
        """
        base = httpx.URL(self.base_url)
        url = httpx.URL(f"{self.base_url}{path}")
        root = base.raw_path.decode("ascii").rstrip("/")
        raw = url.raw_path.decode("ascii").split("?", 1)[0]
        rel = raw[len(root) :] if raw.startswith(root + "/") else ""
        if (
            not path.startswith("/")
            or (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port)
            or not rel.startswith(ALLOWED_PREFIXES)
            or any(_dot_or_empty(seg) for seg in rel.split("/")[1:])
            or any(_dot_or_empty(seg) for seg in path.split("?", 1)[0].split("/")[1:])
        ):
            raise UnsafeWhoopPath(f"refusing to request {path!r}: not a WHOOP v2 data path")
        return url

    async def get_json(
        self,
        path: str,
        *,
        user_id: int | None = None,
        access_token: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """GET and parse (the body already parsed once during the retry check)."""
        resp = await self.request(
            "GET", path, user_id=user_id, access_token=access_token, params=params
        )
        return resp.json()

    async def paginate(
        self,
        path: str,
        *,
        user_id: int,
        start: datetime | None,
        end: datetime | None,
        cursor: str | None = None,
    ) -> AsyncIterator[Page]:
        """Every page of a collection in ``[start, end)``, resuming from ``cursor``.

        ``start``/``end``/``limit`` stay fixed across pages; the cursor goes out as camelCase
        ``nextToken`` and comes back as snake_case ``next_token``.
        """
        base: dict[str, Any] = {"limit": PAGE_LIMIT}
        if start is not None:
            base["start"] = iso_z(start)
        if end is not None:
            base["end"] = iso_z(end)
        while True:
            params = dict(base)
            if cursor:
                params["nextToken"] = cursor
            fetched_at = datetime.now(UTC)
            body = await self.get_json(path, user_id=user_id, params=params)
            next_token = body.get("next_token") or None
            yield Page(list(body.get("records") or []), cursor, next_token, fetched_at)
            if not next_token:
                return
            cursor = next_token

    async def revoke(self, user_id: int) -> None:
        """``DELETE /v2/user/access`` with the user's token (WHOOP stops their webhooks)."""
        await self.request("DELETE", "/v2/user/access", user_id=user_id)


def _dot_or_empty(segment: str) -> bool:
    """``""``, ``.``, ``..`` and their percent-encoded spellings (servers may decode them)."""
    return segment.lower().replace("%2e", ".") in ("", ".", "..")


def _parses(resp: httpx.Response) -> bool:
    if not resp.content:
        return resp.status_code == 204
    try:
        json.loads(resp.content)
    except ValueError:
        return False
    return True


__all__ = [
    "ALLOWED_PREFIXES",
    "PAGE_LIMIT",
    "ClientStats",
    "Page",
    "RetryPolicy",
    "MAX_AUTH_ROUNDS",
    "WhoopAuthRejected",
    "UnsafeWhoopPath",
    "WhoopClient",
    "WhoopNotFound",
    "WhoopRequestError",
    "WhoopScopeMissing",
    "WhoopUnavailable",
    "iso_z",
    "path_segment",
    "v2_path",
]
