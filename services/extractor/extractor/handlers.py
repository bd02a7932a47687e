"""What the extractor does with each message, plus backfill and reconciliation.

Every fetch goes through :class:`~shared.whoop_client.WhoopClient` (app-wide rate limit,
retries, single-flight token refresh) and lands in bronze as one NDJSON.gz blob per page. The
seen-record index is updated only after the blob is written, so a crash in between only causes
a harmless rewrite, never a lost record.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from extractor.domain import bronze
from extractor.domain.resources import (
    BODY_MEASUREMENT_PATH,
    PROFILE_PATH,
    SPECS,
    ResourceSpec,
    parse_ts,
    record_time,
)
from extractor.domain.windows import split_windows
from extractor.exceptions import RecoveryNotReady
from extractor.settings import ExtractorSettings
from extractor.state import ExtractorState, ParkedMessage, SeenRecord
from shared.contracts import (
    Resource,
    SyncReason,
    SyncRequested,
    UserConnected,
    UserDisconnected,
    WebhookEventType,
    WebhookReceived,
)
from shared.contracts.messages import COLLECTION_RESOURCES, record_id_for
from shared.errors import TerminalError
from shared.jobs import JobRecord, JobStore
from shared.messaging import outgoing_message, publish_message
from shared.ports import BlobStore, MessageBus, OutgoingMessage, ReceivedMessage, TokenStore
from shared.telemetry import current_trace_id, tracer
from shared.whoop_auth import ReauthRequired
from shared.whoop_client import WhoopClient, WhoopNotFound, WhoopScopeMissing, v2_path
from shared.whoop_ratelimit import at_backfill_priority

log = logging.getLogger(__name__)
_tracer = tracer(__name__)

ATTEMPT_PROPERTY = "wdp_attempt"
ProgressCallback = Callable[[str, int, int], None]
"""``(resource, windows_done, windows_total)`` after each finished window."""


@dataclass
class SyncResult:
    """What one windowed sync/backfill did."""

    job_id: str
    pages: int = 0
    records: int = 0
    blobs: list[str] = field(default_factory=list)
    windows_total: int = 0
    windows_skipped: int = 0


@dataclass
class ReconcileResult:
    """What one reconciliation pass did for one user."""

    user_id: int
    pages: int = 0
    written: int = 0
    tombstones: dict[str, list[str]] = field(default_factory=dict)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def backfill_job_id(user_id: int, start: datetime, end: datetime) -> str:
    """Deterministic id: rerunning the same backfill resumes its checkpoints."""
    return f"backfill-{user_id}-{start:%Y%m%d}-{end:%Y%m%d}"


class Extractor:
    """The extractor's use cases over injected ports (tests pass fakes or the simulator)."""

    def __init__(
        self,
        *,
        client: WhoopClient,
        blobs: BlobStore,
        state: ExtractorState,
        jobs: JobStore,
        tokens: TokenStore,
        bus: MessageBus | None,
        settings: ExtractorSettings,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.client = client
        self.blobs = blobs
        self.state = state
        self.jobs = jobs
        self.tokens = tokens
        self.bus = bus
        self.settings = settings
        self.clock = clock
        self.coalesced = 0

    # ------------------------------------------------------------------ bronze
    async def _write(
        self,
        resource: Resource,
        user_id: int,
        lines: Sequence[Mapping[str, Any]],
        *,
        job_id: str,
        page: int,
        fetched_at: datetime,
        window_start: datetime | None,
        window_end: datetime | None,
    ) -> str:
        path = bronze.blob_path(resource, user_id, fetched_at, job_id, page)
        await self.blobs.put(
            path,
            bronze.ndjson_gz(lines),
            content_type="application/gzip",
            metadata=bronze.metadata(
                user_id=user_id,
                resource=resource,
                window_start=window_start,
                window_end=window_end,
                fetched_at=fetched_at,
                trace_id=current_trace_id(),
                job_id=job_id,
            ),
        )
        return path

    async def _write_records(
        self,
        spec: ResourceSpec,
        user_id: int,
        records: list[dict[str, Any]],
        *,
        job_id: str,
        page: int,
        fetched_at: datetime,
        window_start: datetime | None,
        window_end: datetime | None,
        only_changed: bool = False,
    ) -> tuple[str | None, int]:
        """Write a page (optionally only new/changed records) and index it."""
        if only_changed and records:
            known = await self.state.seen_updates(
                user_id, spec.resource.value, [spec.key(r) for r in records]
            )
            records = [r for r in records if known.get(spec.key(r)) != r.get("updated_at")]
        if not records:
            return None, 0
        path = await self._write(
            spec.resource,
            user_id,
            records,
            job_id=job_id,
            page=page,
            fetched_at=fetched_at,
            window_start=window_start,
            window_end=window_end,
        )
        if spec.resource is Resource.SLEEP:
            await self.state.remember_sleeps(
                user_id,
                [
                    (str(r["id"]), str(r["cycle_id"]), str(r.get("start")), str(r.get("end")))
                    for r in records
                    if r.get("id") is not None and r.get("cycle_id") is not None
                ],
            )
        await self.state.remember(
            user_id,
            spec.resource.value,
            [
                SeenRecord(
                    spec.key(r),
                    spec.tombstone_key(r),
                    record_time(spec, r),
                    None if r.get("updated_at") is None else str(r["updated_at"]),
                )
                for r in records
            ],
        )
        return path, len(records)

    # ------------------------------------------------------------------ webhooks
    async def handle_webhook(
        self, event: WebhookReceived, message: ReceivedMessage | None = None
    ) -> None:
        """Fetch what a webhook points at (or write a tombstone), never the whole collection.

        While the user needs re-authorisation the message is parked (see :meth:`_park`).

        Raises:
            ReauthRequired: only without a bus message to park (direct calls).
            WhoopUnavailable: WHOOP kept failing (transient → redelivery).
        """
        job_id = f"webhook-{event.whoop_trace_id}"
        with _tracer.start_as_current_span(
            "extractor.webhook", attributes={"whoop.event_type": event.event_type.value}
        ):
            fetches = not event.event_type.value.endswith(".deleted")
            if fetches and await self._served_already(event):
                self.coalesced += 1
                log.info(
                    "webhook served by a fetch that started after it arrived",
                    extra={"event_type": event.event_type.value, "user_id": event.user_id},
                )
                return
            started = self.clock()
            try:
                await self._handle_event(event, job_id)
            except RecoveryNotReady as exc:
                await self._retry_later(event, message, exc)
            except ReauthRequired as exc:
                await self._park(exc, message)
            else:
                if fetches:
                    await self.state.mark_served(
                        event.user_id, event.event_type.value, event.record_id, started
                    )

    async def _served_already(self, event: WebhookReceived) -> bool:
        """Coalescing: a fetch that *started* after this webhook arrived already saw its change.

        WHOOP sends many webhooks per record (every re-score) and a backlog can hold thousands
        for a few records; each would cost an API call from the app-wide quota. One fetch
        serves every webhook received before it started (minus ``coalesce_margin_s`` of clock
        skew); a re-score that arrives after a fetch started still gets exactly one more.
        """
        served = await self.state.served_since(
            event.user_id, event.event_type.value, event.record_id
        )
        if served is None:
            return False
        margin = timedelta(seconds=self.settings.coalesce_margin_s)
        return served > event.received_at + margin

    # ------------------------------------------------------------------ re-authorisation
    async def _park(self, exc: ReauthRequired, message: ReceivedMessage | None) -> None:
        """Keep a user's message until they reconnect instead of dead-lettering it.

        A revoked grant is the member's to fix, not an operator's: their webhooks and syncs
        wait in the extractor's state (the bus message completes) and :meth:`handle_connected`
        republishes them when the member consents again. Other members are not delayed.
        """
        if message is None:
            raise exc
        await self.state.park(
            ParkedMessage(
                user_id=exc.user_id,
                topic=message.topic,
                message_id=message.message_id,
                body=message.body,
                properties=dict(message.application_properties),
                subject=message.subject,
                parked_at=self.clock(),
            )
        )
        log.warning(
            "parked message until the user re-authorises",
            extra={"user_id": exc.user_id, "topic": message.topic, "reason": exc.reason},
        )

    async def replay_parked(self, user_id: int, *, tag: str) -> int:
        """Republish a reconnected user's parked messages in their original order.

        Each gets a new message id (``<original>-replay-<tag>``) so broker duplicate detection
        does not swallow it; everything downstream is idempotent, so a crash between publish
        and unpark only replays a message twice.
        """
        if self.bus is None:
            return 0
        parked = await self.state.parked(user_id)
        for item in parked:
            await self.bus.publish(
                item.topic,
                [
                    OutgoingMessage(
                        body=item.body,
                        application_properties=item.properties,
                        message_id=f"{item.message_id}-replay-{tag}",
                        subject=item.subject,
                        session_id=str(user_id),
                    )
                ],
            )
            await self.state.unpark(user_id, item.topic, item.message_id)
        if parked:
            log.info("replayed parked messages", extra={"user_id": user_id, "count": len(parked)})
        return len(parked)

    async def _handle_event(self, event: WebhookReceived, job_id: str) -> None:
        kind = event.event_type
        user = event.user_id
        if kind.value.endswith(".deleted"):
            resource = Resource(kind.value.split(".")[0])
            spec = SPECS[resource]
            now = self.clock()
            line = bronze.tombstone(
                resource,
                key_field=spec.tombstone_key_field,
                key=event.record_id,
                user_id=user,
                deleted_at=now,
                source="webhook",
            )
            await self._write(
                resource,
                user,
                [line],
                job_id=job_id,
                page=0,
                fetched_at=now,
                window_start=None,
                window_end=now,
            )
            if resource is Resource.RECOVERY:
                await self.state.forget(user, resource.value, tomb_key=event.record_id)
            else:
                await self.state.forget(user, resource.value, key=event.record_id)
            return
        if kind is WebhookEventType.WORKOUT_UPDATED:
            await self._fetch_one(SPECS[Resource.WORKOUT], user, event.record_id, job_id)
            return
        known = await self.state.sleep_cycle(user, event.record_id)
        if known is not None and kind is WebhookEventType.RECOVERY_UPDATED:
            # The sleep was written before (its sleep.updated comes first): its cycle id is
            # known, so the recovery costs one WHOOP call instead of two.
            sleep: dict[str, Any] | None = {
                "cycle_id": known[0],
                "start": known[1],
                "end": known[2],
            }
        else:
            sleep = await self._fetch_one(SPECS[Resource.SLEEP], user, event.record_id, job_id)
        if sleep is None or sleep.get("cycle_id") is None:
            return
        # WHOOP's answer decides this path segment: checked like a webhook id before use.
        cycle_id = record_id_for(Resource.CYCLE, sleep["cycle_id"])
        if kind is WebhookEventType.SLEEP_UPDATED:
            # A main sleep closes the previous cycle and opens its own: list both, once per
            # sleep (a re-scored version changes neither cycle). A nap changes no cycle
            # boundary; its cycle's strain arrives with the next main sleep's listing.
            if known is None and not sleep.get("nap"):
                await self._fetch_cycles_around(user, sleep, job_id)
            return
        # recovery.updated carries the SLEEP id: sleep → cycle_id → that cycle's recovery.
        spec = SPECS[Resource.RECOVERY]
        fetched_at = self.clock()
        try:
            recovery = await self.client.get_json(
                v2_path("cycle", cycle_id, "recovery"), user_id=user
            )
        except WhoopNotFound as exc:
            raise RecoveryNotReady(cycle_id) from exc
        await self._write_records(
            spec,
            user,
            [recovery],
            job_id=job_id,
            page=2,
            fetched_at=fetched_at,
            window_start=parse_ts(sleep.get("start")),
            window_end=parse_ts(sleep.get("end")),
        )
        await self._note_sync(user, spec, [recovery], fetched_at)

    async def _fetch_cycles_around(self, user_id: int, sleep: dict[str, Any], job_id: str) -> None:
        """The cycle a sleep starts *and* the one it ends, in one collection call.

        Cycles have no webhooks; the previous cycle closes (final day strain) when this sleep
        begins. Listing ``[start - 30 h, end + 1 h)`` returns both on one page for the cost
        of the by-id fetch it replaces, so yesterday's strain is final without waiting for
        reconciliation.
        """
        start, end = parse_ts(sleep.get("start")), parse_ts(sleep.get("end"))
        spec = SPECS[Resource.CYCLE]
        if start is None or end is None:
            cycle_id = record_id_for(Resource.CYCLE, sleep["cycle_id"])
            await self._fetch_one(spec, user_id, cycle_id, job_id, page=1)
            return
        lo, hi = start - timedelta(hours=30), end + timedelta(hours=1)
        page_no = 1
        async for page in self.client.paginate(
            spec.collection_path, user_id=user_id, start=lo, end=hi
        ):
            await self._write_records(
                spec,
                user_id,
                page.records,
                job_id=job_id,
                page=page_no,
                fetched_at=page.fetched_at,
                window_start=lo,
                window_end=hi,
                only_changed=True,
            )
            await self._note_sync(user_id, spec, page.records, page.fetched_at)
            page_no += 1

    async def _fetch_one(
        self, spec: ResourceSpec, user_id: int, record_id: str, job_id: str, *, page: int = 0
    ) -> dict[str, Any] | None:
        fetched_at = self.clock()
        try:
            record = await self.client.get_json(spec.by_id_path(record_id), user_id=user_id)
        except WhoopNotFound:
            # Deleted since the event was sent; its *.deleted webhook (or reconciliation)
            # writes the tombstone, so there is nothing to retry.
            log.warning(
                "record from webhook no longer exists",
                extra={"resource": spec.resource.value, "record_id": record_id},
            )
            return None
        await self._write_records(
            spec,
            user_id,
            [record],
            job_id=job_id,
            page=page,
            fetched_at=fetched_at,
            window_start=parse_ts(record.get("start")),
            window_end=parse_ts(record.get("end")),
        )
        await self._note_sync(user_id, spec, [record], fetched_at)
        return dict(record)

    async def _retry_later(
        self, event: WebhookReceived, message: ReceivedMessage | None, exc: RecoveryNotReady
    ) -> None:
        """Re-enqueue with a delay instead of hot-looping redeliveries; give up after N."""
        props = {} if message is None else message.application_properties
        attempt = int(props.get(ATTEMPT_PROPERTY, 1))
        if self.bus is None or attempt >= self.settings.recovery_max_attempts:
            log.warning(
                "recovery still not available; leaving it to reconciliation",
                extra={"cycle_id": exc.cycle_id, "attempt": attempt},
            )
            return
        delay = self.settings.recovery_retry_delay_s * attempt
        base = outgoing_message(event, message_id=f"{event.whoop_trace_id}-retry{attempt}")
        retry = dataclasses.replace(
            base,
            application_properties={**base.application_properties, ATTEMPT_PROPERTY: attempt + 1},
            scheduled_enqueue_time=self.clock() + timedelta(seconds=delay),
        )
        await self.bus.publish(event.topic.value, [retry])
        log.info(
            "recovery not scored yet; rescheduled",
            extra={"cycle_id": exc.cycle_id, "attempt": attempt, "delay_s": delay},
        )

    async def _note_sync(
        self, user_id: int, spec: ResourceSpec, records: list[dict[str, Any]], at: datetime
    ) -> None:
        times = [t for t in (record_time(spec, r) for r in records) if t is not None]
        await self.jobs.record_sync(
            user_id, spec.resource.value, at=at, latest_record_at=max(times) if times else None
        )

    # ------------------------------------------------------------------ sync / backfill
    async def handle_sync(
        self, request: SyncRequested, message: ReceivedMessage | None = None
    ) -> None:
        """Run a (resumable) windowed sync for the message's job id.

        While the user needs re-authorisation the request is parked with its job id, so the
        replay after reconnecting resumes the job's checkpoints instead of starting over.
        """
        now = self.clock()
        end = request.end or now
        start = request.start
        if start is None:
            start = await self._default_start(request.user_id, request.resources, now)
        try:
            await self.sync(
                request.user_id,
                start,
                end,
                job_id=request.job_id,
                resources=request.resources,
                reason=request.reason,
            )
        except ReauthRequired as exc:
            await self._park(exc, message)

    async def _default_start(
        self, user_id: int, resources: Sequence[Resource], now: datetime
    ) -> datetime:
        marks = [await self.state.watermark(user_id, r.value) for r in resources]
        known = [m for m in marks if m is not None]
        if len(known) < len(marks) or not known:
            return now - timedelta(days=self.settings.initial_backfill_days)
        return min(known) - timedelta(hours=self.settings.overlap_hours)

    @at_backfill_priority
    async def sync(
        self,
        user_id: int,
        start: datetime,
        end: datetime,
        *,
        job_id: str,
        resources: Sequence[Resource] = COLLECTION_RESOURCES,
        reason: SyncReason = SyncReason.BACKFILL,
        progress: ProgressCallback | None = None,
    ) -> SyncResult:
        """Fetch ``[start, end)`` for each resource in checkpointed windows.

        A rerun with the same ``job_id`` skips finished windows and resumes unfinished ones
        from their stored page cursor, so no finished page is fetched twice.

        Raises:
            ReauthRequired / WhoopRequestError: terminal (job marked failed).
            WhoopUnavailable: transient (job stays running; the message is redelivered).
        """
        collections = [r for r in resources if r in SPECS]
        now = self.clock()
        windows = [
            (r.value, lo, hi)
            for lo, hi in split_windows(start, end, self.settings.backfill_window_days)
            for r in collections
        ]
        await self.jobs.create(
            JobRecord(
                job_id=job_id,
                user_id=user_id,
                reason=reason.value,
                status="running",
                resources=tuple(r.value for r in collections),
                start=start,
                end=end,
                created_at=now,
                updated_at=now,
                windows_total=len(windows),
            )
        )
        checkpoints = await self.state.ensure_windows(job_id, windows)
        result = SyncResult(job_id=job_id, windows_total=len(checkpoints))
        done = sum(1 for c in checkpoints if c.done)
        result.windows_skipped = done
        await self.jobs.update(
            job_id, status="running", windows_total=len(checkpoints), windows_done=done
        )
        only_changed = reason in (SyncReason.SCHEDULE, SyncReason.RECONCILE)
        newest: dict[str, datetime] = {}
        try:
            for cp in checkpoints:
                if cp.done:
                    continue
                spec = SPECS[Resource(cp.resource)]
                page_no = cp.pages_done
                async for page in self.client.paginate(
                    spec.collection_path,
                    user_id=user_id,
                    start=cp.window_start,
                    end=cp.window_end,
                    cursor=cp.cursor,
                ):
                    path, written = await self._write_records(
                        spec,
                        user_id,
                        page.records,
                        job_id=job_id,
                        page=page_no,
                        fetched_at=page.fetched_at,
                        window_start=cp.window_start,
                        window_end=cp.window_end,
                        only_changed=only_changed,
                    )
                    page_no += 1
                    await self.state.checkpoint(
                        job_id,
                        cp.resource,
                        cp.window_start,
                        cursor=page.next_token,
                        done=page.next_token is None,
                    )
                    result.pages += 1
                    result.records += written
                    if path:
                        result.blobs.append(path)
                    times = [t for t in (record_time(spec, r) for r in page.records) if t]
                    if times:
                        newest[cp.resource] = max([*times, newest.get(cp.resource, times[0])])
                    await self.jobs.update(job_id, pages_delta=1, records_delta=written)
                done += 1
                await self.jobs.update(job_id, windows_done=done)
                if progress is not None:
                    progress(cp.resource, done, len(checkpoints))
        except ReauthRequired as exc:
            await self.jobs.update(job_id, status="queued", error=f"waiting: {exc}")
            raise
        except TerminalError as exc:
            await self.jobs.update(job_id, status="failed", error=str(exc))
            raise
        except Exception as exc:
            await self.jobs.update(job_id, error=f"retrying: {type(exc).__name__}: {exc}")
            raise
        finished = self.clock()
        for r in collections:
            await self.state.advance_watermark(user_id, r.value, min(end, finished))
            await self.jobs.record_sync(
                user_id, r.value, at=finished, latest_record_at=newest.get(r.value)
            )
        await self.jobs.update(job_id, status="succeeded")
        log.info(
            "sync finished",
            extra={
                "job_id": job_id,
                "user_id": user_id,
                "pages": result.pages,
                "records": result.records,
                "windows_skipped": result.windows_skipped,
            },
        )
        return result

    # ------------------------------------------------------------------ connect / disconnect
    async def handle_connected(
        self, event: UserConnected, message: ReceivedMessage | None = None
    ) -> None:
        """Profile + body measurement now; the backfill as its own resumable job.

        A first connection backfills ``backfill_days``. A *re*connection (the user's watermarks
        survived, i.e. no purge) resumes from the oldest watermark minus the overlap instead of
        re-fetching the whole history, and replays the messages parked while the grant was
        gone.
        """
        try:
            await self.fetch_profile(event.user_id)
        except ReauthRequired as exc:  # a stale connect event for a user who lost the grant
            await self._park(exc, message)
            return
        if self.bus is None:
            return
        tag = f"{event.connected_at:%Y%m%dT%H%M%S}"
        end = event.connected_at
        marks = [await self.state.watermark(event.user_id, r.value) for r in COLLECTION_RESOURCES]
        known = [m for m in marks if m is not None]
        request: SyncRequested | None = None
        if known and len(known) == len(marks):
            resume_from = min(known) - timedelta(hours=self.settings.overlap_hours)
            if resume_from < end:
                request = SyncRequested(
                    job_id=f"resume-{event.user_id}-{tag}",
                    user_id=event.user_id,
                    start=resume_from,
                    end=end,
                    reason=SyncReason.BACKFILL,
                    requested_at=self.clock(),
                )
        elif event.backfill_days > 0:
            request = SyncRequested(
                job_id=f"initial-{event.user_id}-{tag}",
                user_id=event.user_id,
                start=end - timedelta(days=event.backfill_days),
                end=end,
                reason=SyncReason.INITIAL_BACKFILL,
                requested_at=self.clock(),
            )
        if request is not None:
            await publish_message(self.bus, request, message_id=request.job_id)
        await self.replay_parked(event.user_id, tag=tag)

    async def fetch_profile(self, user_id: int) -> list[str]:
        """``profile`` and ``body_measurement`` (no webhooks exist for them: poll)."""
        paths: list[str] = []
        fetched_at = self.clock()
        job_id = f"profile-{fetched_at:%Y%m%dT%H%M%S}"
        profile = await self.client.get_json(PROFILE_PATH, user_id=user_id)
        paths.append(
            await self._write(
                Resource.PROFILE,
                user_id,
                [profile],
                job_id=job_id,
                page=0,
                fetched_at=fetched_at,
                window_start=fetched_at,
                window_end=fetched_at,
            )
        )
        try:
            body = await self.client.get_json(BODY_MEASUREMENT_PATH, user_id=user_id)
        except WhoopNotFound:
            body = None  # no measurement on file
        except WhoopScopeMissing:
            body = None  # read:body_measurement not granted: the rest of the sync goes on
        if body is not None:
            line = {**body, "user_id": user_id}  # the API omits it (data-model.md)
            paths.append(
                await self._write(
                    Resource.BODY_MEASUREMENT,
                    user_id,
                    [line],
                    job_id=job_id,
                    page=0,
                    fetched_at=fetched_at,
                    window_start=fetched_at,
                    window_end=fetched_at,
                )
            )
        await self.state.mark_profile_fetched(user_id, fetched_at)
        for res in (Resource.PROFILE, Resource.BODY_MEASUREMENT):
            await self.jobs.record_sync(
                user_id, res.value, at=fetched_at, latest_record_at=fetched_at
            )
        return paths

    async def handle_disconnected(
        self, event: UserDisconnected, message: ReceivedMessage | None = None
    ) -> None:
        """Stop syncing; with ``purge`` delete the user's bronze blobs and extractor state."""
        if not event.purge:
            log.info("user disconnected; keeping data", extra={"user_id": event.user_id})
            return
        deleted = 0
        for resource in Resource:
            paths = [
                b.path async for b in self.blobs.list(bronze.user_prefix(resource, event.user_id))
            ]
            for path in paths:
                deleted += bool(await self.blobs.delete(path))
        await self.state.purge_user(event.user_id)
        log.info("purged user bronze data", extra={"user_id": event.user_id, "blobs": deleted})

    # ------------------------------------------------------------------ reconciliation
    async def reconcile_all(self) -> list[ReconcileResult]:
        """Periodic job: every active user, one at a time (the rate limit is app-wide)."""
        results = []
        users = [u async for u in self.tokens.list_users() if u.status == "active"]
        for user in users:
            try:
                results.append(await self.reconcile_user(user.user_id))
            except TerminalError as exc:
                log.warning(
                    "reconciliation skipped user",
                    extra={"user_id": user.user_id, "error": str(exc)},
                )
        return results

    @at_backfill_priority
    async def reconcile_user(self, user_id: int) -> ReconcileResult:
        """Re-list recent days: write missed/changed records, tombstone vanished ones.

        Only index rows written *before* the listing began are candidates, so a webhook that
        lands mid-pass cannot be mistaken for a delete; recovery (placed by ``created_at``,
        listed by its sleep's start) keeps a one-day distance from the window start.
        """
        now = self.clock()
        start = now - timedelta(days=self.settings.reconcile_days)
        mark = await self.state.watermark(user_id, Resource.CYCLE.value)
        if mark is not None:
            start = min(start, mark - timedelta(hours=self.settings.overlap_hours))
        result = ReconcileResult(user_id)
        job_id = f"reconcile-{now:%Y%m%dT%H%M%S}"
        with _tracer.start_as_current_span("extractor.reconcile", attributes={"user_id": user_id}):
            for resource in COLLECTION_RESOURCES:
                spec = SPECS[resource]
                listed_at = datetime.now(UTC)  # wall clock, like the index stamps
                present: set[str] = set()
                newest: datetime | None = None
                page_no = 0
                async for page in self.client.paginate(
                    spec.collection_path, user_id=user_id, start=start, end=now
                ):
                    present.update(spec.key(r) for r in page.records)
                    _, written = await self._write_records(
                        spec,
                        user_id,
                        page.records,
                        job_id=job_id,
                        page=page_no,
                        fetched_at=page.fetched_at,
                        window_start=start,
                        window_end=now,
                        only_changed=True,
                    )
                    times = [t for t in (record_time(spec, r) for r in page.records) if t]
                    if times:
                        newest = max([*times, newest or times[0]])
                    page_no += 1
                    result.pages += 1
                    result.written += written
                edge = timedelta(days=1) if resource is Resource.RECOVERY else timedelta(0)
                seen = await self.state.seen_between(
                    user_id, resource.value, start + edge, now, indexed_before=listed_at
                )
                vanished = [s for s in seen if s.key not in present]
                if vanished:
                    deleted_at = self.clock()
                    lines = [
                        bronze.tombstone(
                            resource,
                            key_field=spec.tombstone_key_field,
                            key=s.tomb_key,
                            user_id=user_id,
                            deleted_at=deleted_at,
                            source="reconciliation",
                        )
                        for s in vanished
                    ]
                    await self._write(
                        resource,
                        user_id,
                        lines,
                        job_id=job_id,
                        page=page_no,
                        fetched_at=deleted_at,
                        window_start=start,
                        window_end=now,
                    )
                    for s in vanished:
                        await self.state.forget(user_id, resource.value, key=s.key)
                    result.tombstones[resource.value] = [s.tomb_key for s in vanished]
                await self.state.advance_watermark(user_id, resource.value, now)
                await self.jobs.record_sync(
                    user_id, resource.value, at=self.clock(), latest_record_at=newest
                )
            fetched = await self.state.profile_fetched_at(user_id)
            if (
                fetched is None
                or (now - fetched).total_seconds() >= self.settings.profile_refresh_s
            ):
                await self.fetch_profile(user_id)
        log.info(
            "reconciled user",
            extra={
                "user_id": user_id,
                "pages": result.pages,
                "written": result.written,
                "tombstones": {k: len(v) for k, v in result.tombstones.items()},
            },
        )
        return result
