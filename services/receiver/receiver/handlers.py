"""The receiver's use cases: webhook intake, OAuth connect/disconnect, sync requests, status.

Routes parse HTTP and map the exceptions below to status codes; everything that decides
anything lives here so it is testable with fakes of the ports.
"""

from __future__ import annotations

import json
import logging
import secrets as pysecrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import SecretStr, ValidationError

from receiver.adapters.state import ReceiverState
from receiver.settings import ReceiverSettings
from shared.contracts import (
    Message,
    Resource,
    SyncReason,
    SyncRequested,
    UserConnected,
    UserDisconnected,
    WebhookEventType,
    WebhookReceived,
)
from shared.contracts.messages import (
    COLLECTION_RESOURCES,
    INT64_MAX,
    InvalidRecordId,
    record_id_for,
)
from shared.errors import PlatformError
from shared.jobs import JobRecord, JobStore
from shared.messaging import publish_message
from shared.ports import MessageBus, TokenStore, UserRecord
from shared.whoop_auth import ReauthRequired, UnknownUser, WhoopOAuth
from shared.whoop_client import WhoopClient, WhoopRequestError, WhoopUnavailable
from shared.whoop_signature import InvalidSignature, verify

log = logging.getLogger(__name__)

PROFILE_PATH = "/v2/user/profile/basic"


class RequestRejected(PlatformError):
    """Input the receiver refuses; ``status_code`` is what the client gets."""

    def __init__(self, status_code: int, reason: str) -> None:
        self.status_code = status_code
        self.reason = reason
        super().__init__(reason)


class WebhookOutcome(StrEnum):
    """What happened to a validly signed delivery."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "user_id": int,
    "id": (str, int),
    "type": str,
    "trace_id": str,
}


#: WHOOP's trace ids are UUIDs; anything much longer is not one and would bloat the dedupe table.
MAX_TRACE_ID = 200


def parse_event(raw: bytes) -> dict[str, Any]:
    """Parse and shape-check a webhook body (after the signature check).

    A validly signed body is still input: the signature proves it came with our secret, not
    that it is sane. Nesting deep enough to exhaust the parser's recursion, integers beyond
    int64 and ids that are not ids are all refused here with a 400 that says why.

    Raises:
        RequestRejected: 400 for malformed JSON or a missing/mistyped required field.
    """
    try:
        body = json.loads(raw)
    except RecursionError as exc:
        raise RequestRejected(400, "JSON nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRejected(400, "malformed JSON") from exc
    if not isinstance(body, dict):
        raise RequestRejected(400, "body is not a JSON object")
    for name, kind in _REQUIRED.items():
        value = body.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise RequestRejected(400, f"missing or invalid field {name!r}")
    if not str(body["trace_id"]).strip() or not str(body["id"]).strip():
        raise RequestRejected(400, "empty id or trace_id")
    if not 0 < body["user_id"] <= INT64_MAX:
        raise RequestRejected(400, "user_id must be a positive int64")
    if len(body["trace_id"]) > MAX_TRACE_ID:
        raise RequestRejected(400, f"trace_id longer than {MAX_TRACE_ID} characters")
    return body


class WebhookIntake:
    """Verify → parse → dedupe → enqueue; never calls WHOOP inline.

    Args:
        client_secret: WHOOP signs with the app's client secret.
        clock: epoch seconds (injected for tests of the freshness window).
    """

    def __init__(
        self,
        bus: MessageBus,
        state: ReceiverState,
        client_secret: SecretStr,
        settings: ReceiverSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self.state = state
        self._secret = client_secret
        self.settings = settings
        self._clock = clock
        self.counters: Counter[str] = Counter()
        self._last_purge = 0.0

    async def accept(
        self, raw: bytes, signature: str | None, timestamp: str | None
    ) -> WebhookOutcome:
        """Handle one delivery.

        Raises:
            RequestRejected: 401 (signature/timestamp), 400 (shape), 503 (enqueue failed).
        """
        now = self._clock()
        try:
            verify(
                self._secret.get_secret_value(),
                signature,
                timestamp,
                raw,
                now_s=now,
                max_age_s=self.settings.webhook_max_age_s,
                max_future_s=self.settings.webhook_max_future_s,
            )
        except InvalidSignature as exc:
            self.counters[f"rejected_{exc.reason}"] += 1
            raise RequestRejected(401, f"signature check failed: {exc.reason}") from exc
        try:
            body = parse_event(raw)
        except RequestRejected:
            self.counters["rejected_malformed"] += 1
            raise
        try:
            event_type = WebhookEventType(body["type"])
        except ValueError:
            self.counters["ignored_unhandled_type"] += 1
            log.info("ignoring unhandled webhook type", extra={"webhook_type": body["type"][:64]})
            return WebhookOutcome.IGNORED
        try:
            record_id = record_id_for(event_type.resource, body["id"])
        except InvalidRecordId as exc:
            self.counters["rejected_bad_record_id"] += 1
            raise RequestRejected(400, f"invalid id for {event_type.value}: {exc}") from exc
        trace_id = str(body["trace_id"])
        self._maybe_purge(now)
        if not self.state.claim_webhook(trace_id, now):
            self.counters["duplicate"] += 1
            return WebhookOutcome.DUPLICATE
        try:
            message = WebhookReceived(
                user_id=int(body["user_id"]),
                event_type=event_type,
                record_id=record_id,
                whoop_trace_id=trace_id,
                received_at=datetime.fromtimestamp(now, UTC),
            )
        except ValidationError as exc:  # the contract's own checks, should parse_event miss one
            self.state.release_webhook(trace_id)
            self.counters["rejected_malformed"] += 1
            raise RequestRejected(400, f"webhook breaks the message contract: {exc}") from exc
        try:
            await publish_message(self.bus, message, message_id=f"webhook-{trace_id}")
        except Exception as exc:
            self.state.release_webhook(trace_id)  # let WHOOP's retry through
            self.counters["enqueue_failed"] += 1
            log.error("could not enqueue webhook", extra={"error": type(exc).__name__})
            raise RequestRejected(503, "could not enqueue; retry later") from exc
        self.counters["accepted"] += 1
        return WebhookOutcome.ACCEPTED

    def _maybe_purge(self, now: float) -> None:
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        self.state.purge_webhooks(now - self.settings.dedupe_retention_s)


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser, and the session cookie that binds the state."""

    url: str
    session: str
    state: str


class ConnectFlow:
    """OAuth connect and disconnect."""

    def __init__(
        self,
        *,
        oauth: WhoopOAuth,
        client: WhoopClient,
        tokens: TokenStore,
        bus: MessageBus,
        state: ReceiverState,
        settings: ReceiverSettings,
        jobs: JobStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.jobs = jobs
        self.oauth = oauth
        self.client = client
        self.tokens = tokens
        self.bus = bus
        self.state = state
        self.settings = settings
        self._clock = clock

    def start(self, session: str | None) -> LoginStart:
        """A fresh single-use state (32 URL-safe chars ≥ WHOOP's 8) bound to the session."""
        session = session or pysecrets.token_urlsafe(32)
        state = pysecrets.token_urlsafe(24)
        self.state.put_state(state, session, self._clock() + self.settings.oauth_state_ttl_s)
        url = self.oauth.authorize_url(state=state, redirect_uri=self.settings.redirect_uri)
        return LoginStart(url=url, session=session, state=state)

    async def finish(self, *, code: str | None, state: str | None, session: str | None) -> int:
        """Validate state, exchange the code, store tokens, register, enqueue the backfill.

        Raises:
            RequestRejected: 400 for a missing/unknown/expired/foreign state or missing code.
        """
        if not state or not session or not self.state.take_state(state, session, self._clock()):
            raise RequestRejected(400, "invalid or expired OAuth state")
        if not code:
            raise RequestRejected(400, "missing authorization code")
        tokens = await self.oauth.exchange_code(code, self.settings.redirect_uri)
        if tokens.refresh_token is None:
            log.warning("WHOOP granted no refresh token (offline scope missing)")
        profile = await self.client.get_json(PROFILE_PATH, access_token=tokens.access_token)
        user_id = int(profile["user_id"])
        await self.tokens.save_tokens(user_id, tokens)
        await self.tokens.upsert_user(user_id, status="active", email=profile.get("email"))
        now = datetime.now(UTC)
        await publish_message(
            self.bus,
            UserConnected(
                user_id=user_id,
                backfill_days=self.settings.initial_backfill_days,
                connected_at=now,
            ),
            message_id=f"connected-{user_id}-{int(now.timestamp())}",
        )
        log.info("user connected", extra={"user_id": user_id})
        return user_id

    async def disconnect(self, user_id: int, *, purge: bool) -> None:
        """Revoke at WHOOP (best effort), forget tokens, tell every layer.

        With ``purge`` the member's user record and jobs go too, and every service deletes
        what it holds on ``UserDisconnected(purge=True)`` (docs/operations.md, "Delete").

        Raises:
            RequestRejected: 404 for an unknown user.
        """
        if await self.tokens.get_user(user_id) is None:
            raise RequestRejected(404, "unknown user")
        try:
            await self.client.revoke(user_id)
        except (UnknownUser, ReauthRequired, WhoopRequestError, WhoopUnavailable) as exc:
            # Already revoked or unreachable: we still stop using the grant on our side.
            log.warning(
                "revoke at WHOOP failed", extra={"user_id": user_id, "error": type(exc).__name__}
            )
        if purge:
            await self.tokens.delete_user(user_id)
            if self.jobs is not None:
                await self.jobs.delete_user(user_id)
        else:
            await self.tokens.delete_tokens(user_id)
            await self.tokens.upsert_user(
                user_id, status="disconnected", status_reason="disconnected"
            )
        await publish_message(
            self.bus,
            UserDisconnected(user_id=user_id, purge=purge, disconnected_at=datetime.now(UTC)),
        )


class SyncService:
    """REST sync requests and status, over the shared job store."""

    def __init__(
        self,
        *,
        bus: MessageBus,
        tokens: TokenStore,
        jobs: JobStore,
        settings: ReceiverSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bus = bus
        self.tokens = tokens
        self.jobs = jobs
        self.settings = settings or ReceiverSettings()
        self._clock = clock

    def check_range(self, start: datetime | None, end: datetime | None, now: datetime) -> None:
        """Refuse a range that would spend the app-wide WHOOP quota on nothing.

        Bounds: both ends timezone-aware (a naive one cannot be compared with an aware one
        and means nothing definite anyway), nothing in the future beyond clock skew, no
        start before WHOOP's first data, ``start < end``, and at most ``sync_max_span_days``.
        An omitted start is the extractor's watermark, an omitted end is now.

        Raises:
            RequestRejected: 422 with the rule that was broken.
        """
        cfg = self.settings
        for name, value in (("start", start), ("end", end)):
            if value is not None and value.utcoffset() is None:
                raise RequestRejected(422, f"{name} needs a timezone offset, e.g. ...T00:00:00Z")
        latest = now + timedelta(seconds=cfg.sync_max_future_s)
        if end is not None and end > latest:
            raise RequestRejected(422, "end is in the future")
        if start is not None and start >= latest:
            raise RequestRejected(422, "start is in the future")
        if start is not None and start < cfg.sync_earliest_start:
            raise RequestRejected(
                422, f"start is before WHOOP's first data ({cfg.sync_earliest_start.date()})"
            )
        effective_end = end if end is not None else now
        if start is not None and start >= effective_end:
            raise RequestRejected(422, "start must be before end")
        if start is not None and effective_end - start > timedelta(days=cfg.sync_max_span_days):
            raise RequestRejected(
                422, f"range longer than {cfg.sync_max_span_days} days; split the request"
            )

    async def _active_user(self, user_id: int) -> UserRecord:
        user = await self.tokens.get_user(user_id)
        if user is None:
            raise RequestRejected(404, "unknown user")
        if user.status != "active":
            raise RequestRejected(409, f"user is {user.status}: {user.status_reason or ''}")
        return user

    async def request(
        self,
        user_id: int,
        *,
        resources: Sequence[Resource] = COLLECTION_RESOURCES,
        start: datetime | None,
        end: datetime | None,
    ) -> str:
        """Create a queued job and publish the SyncRequested; returns the job id.

        Raises:
            RequestRejected: 404 unknown user, 409 inactive user or a job already queued or
                running for the user (one at a time: each one spends the app-wide quota),
                422 a range outside :meth:`check_range`.
        """
        await self._active_user(user_id)
        now = self._clock()
        self.check_range(start, end, now)
        message = SyncRequested(
            user_id=user_id,
            resources=tuple(resources),
            start=start,
            end=end,
            reason=SyncReason.ON_DEMAND,
            requested_at=now,
        )
        busy = await self.jobs.create_exclusive(
            JobRecord(
                job_id=message.job_id,
                user_id=user_id,
                reason=message.reason.value,
                status="queued",
                resources=tuple(r.value for r in message.resources),
                start=start,
                end=end,
                created_at=now,
                updated_at=now,
            ),
            stale_after=timedelta(seconds=self.settings.sync_job_stale_s),
        )
        if busy is not None:
            raise RequestRejected(
                409, f"job {busy.job_id} is already {busy.status} for this user; wait for it"
            )
        await publish(self.bus, message, message_id=message.job_id)
        return message.job_id

    async def status(self, user_id: int) -> dict[str, Any]:
        """Reauth state plus last successful sync and freshness per resource."""
        user = await self.tokens.get_user(user_id)
        if user is None:
            raise RequestRejected(404, "unknown user")
        now = datetime.now(UTC)
        resources = {}
        for row in await self.jobs.sync_status(user_id):
            resources[row.resource] = {
                "last_success_at": row.last_success_at,
                "latest_record_at": row.latest_record_at,
                "freshness_s": (now - row.last_success_at).total_seconds(),
            }
        return {
            "user_id": user_id,
            "status": user.status,
            "needs_reauth": user.status == "needs_reauth",
            "status_reason": user.status_reason,
            "connected_at": user.connected_at,
            "resources": resources,
        }


async def publish(bus: MessageBus, message: Message, *, message_id: str | None = None) -> None:
    """Publish with trace context (thin alias so routes and tests share one call)."""
    await publish_message(bus, message, message_id=message_id)
