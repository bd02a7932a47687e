"""FastAPI routes: thin parsing and status mapping around :mod:`receiver.handlers`.

``create_app(settings=None, **overrides)`` builds the app; its lifespan calls
:func:`receiver.bootstrap.bootstrap` with the overrides (tests pass fakes or ASGI clients).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, Field

from receiver.auth import Principal, Unauthenticated
from receiver.bootstrap import ReceiverContainer, bootstrap
from receiver.handlers import RequestRejected, WebhookOutcome
from receiver.settings import ReceiverSettings
from shared.contracts import Resource
from shared.contracts.messages import COLLECTION_RESOURCES, INT64_MAX
from shared.errors import TransientError
from shared.telemetry import tracer
from shared.whoop_auth import OAuthError
from shared.whoop_client import WhoopRequestError

log = logging.getLogger(__name__)
_tracer = tracer(__name__)

SESSION_COOKIE = "wdp_oauth_session"


#: A WHOOP user id in a path: positive int64, so a larger number is a 422 from validation
#: instead of an OverflowError (500) when it reaches SQLite.
UserIdPath = Annotated[int, Path(gt=0, le=INT64_MAX, description="WHOOP user id (int64)")]


class SyncBody(BaseModel):
    """``POST /v1/users/{id}/sync`` body; omitted bounds mean "since the watermark" / "now".

    The range rules (timezone required, no future, WHOOP's first data, maximum span) are
    checked by ``SyncService.check_range`` so every caller gets the same answers.
    """

    resources: list[Resource] = Field(
        default_factory=lambda: list(COLLECTION_RESOURCES), min_length=1, max_length=8
    )
    start: datetime | None = None
    end: datetime | None = None


def _container(request: Request) -> ReceiverContainer:
    container: ReceiverContainer = request.app.state.container
    return container


Container = Annotated[ReceiverContainer, Depends(_container)]


def _principal(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    container = _container(request)
    try:
        return container.auth.authenticate(x_api_key, authorization)
    except Unauthenticated as exc:
        raise RequestRejected(401, str(exc)) from exc


Caller = Annotated[Principal, Depends(_principal)]


def _authorize(principal: Principal, user_id: int) -> None:
    if not principal.may_access(user_id):
        raise RequestRejected(403, "not allowed to access this user")


def create_app(settings: ReceiverSettings | None = None, **overrides: Any) -> FastAPI:
    """The receiver app; ``overrides`` go to :func:`bootstrap` (bus=, tokens=, http=, ...)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = await bootstrap(settings, **overrides)
        app.state.container = container
        try:
            yield
        finally:
            await container.close()

    app = FastAPI(
        title="WHOOP Data Platform receiver",
        description="OAuth connect, signed WHOOP webhooks and the sync/status REST API.",
        version="1",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestRejected)
    async def _rejected(_: Request, exc: RequestRejected) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=exc.status_code)

    @app.exception_handler(OAuthError)
    async def _oauth(_: Request, exc: OAuthError) -> JSONResponse:
        return JSONResponse({"detail": f"WHOOP refused: {exc.error}"}, status_code=400)

    @app.exception_handler(WhoopRequestError)
    async def _whoop_request(_: Request, exc: WhoopRequestError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=502)

    @app.exception_handler(TransientError)
    async def _transient(_: Request, exc: TransientError) -> JSONResponse:
        return JSONResponse({"detail": f"temporarily unavailable: {exc}"}, status_code=503)

    @app.get("/healthz", tags=["ops"])
    async def healthz(container: Container) -> dict[str, Any]:
        """Liveness plus webhook counters (accepted, duplicates, ignored types, rejections)."""
        return {"status": "ok", "webhooks": dict(container.webhooks.counters)}

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def metrics(container: Container) -> str:
        """Prometheus text format of the webhook counters."""
        lines = ["# TYPE wdp_receiver_webhooks_total counter"]
        for outcome, count in sorted(container.webhooks.counters.items()):
            lines.append(f'wdp_receiver_webhooks_total{{outcome="{outcome}"}} {count}')
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- OAuth
    @app.get("/auth/whoop/login", tags=["connect"], status_code=302)
    async def login(request: Request, container: Container) -> Response:
        """Redirect to WHOOP consent with a single-use state bound to this browser."""
        start = container.connect.start(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(start.url, status_code=302)
        response.set_cookie(
            SESSION_COOKIE,
            start.session,
            max_age=int(container.settings.oauth_state_ttl_s),
            httponly=True,
            samesite="lax",
            secure=container.settings.public_base_url.startswith("https://"),
            path="/auth/whoop",
        )
        return response

    @app.get("/auth/whoop/callback", tags=["connect"])
    async def callback(
        request: Request,
        container: Container,
        code: str | None = None,
        state: str | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """WHOOP redirects here; exchange the code and start the initial backfill."""
        if error:
            raise RequestRejected(400, f"WHOOP consent failed: {error}")
        user_id = await container.connect.finish(
            code=code, state=state, session=request.cookies.get(SESSION_COOKIE)
        )
        return {"user_id": user_id, "status": "connected"}

    @app.post("/v1/users/{user_id}/disconnect", tags=["connect"], status_code=202)
    async def disconnect(
        container: Container,
        caller: Caller,
        user_id: UserIdPath,
        purge: Annotated[bool, Query(description="delete the user's data everywhere")] = False,
    ) -> dict[str, Any]:
        """Revoke at WHOOP, delete tokens, publish UserDisconnected."""
        _authorize(caller, user_id)
        await container.connect.disconnect(user_id, purge=purge)
        return {"user_id": user_id, "status": "disconnected", "purge": purge}

    # ---------------------------------------------------------------- webhooks
    @app.post("/webhooks/whoop", tags=["webhooks"])
    async def webhook(request: Request, container: Container) -> JSONResponse:
        """Verify the raw body's signature, dedupe on trace_id, enqueue; never call WHOOP."""
        with _tracer.start_as_current_span("POST /webhooks/whoop", kind=SpanKind.SERVER):
            limit = container.settings.webhook_max_body_bytes
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                container.webhooks.counters["rejected_oversize"] += 1
                raise RequestRejected(413, "body too large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    container.webhooks.counters["rejected_oversize"] += 1
                    raise RequestRejected(413, "body too large")
                chunks.append(chunk)
            outcome = await container.webhooks.accept(
                b"".join(chunks),
                request.headers.get("x-whoop-signature"),
                request.headers.get("x-whoop-signature-timestamp"),
            )
            status = 202 if outcome is WebhookOutcome.ACCEPTED else 200
            return JSONResponse({"status": outcome.value}, status_code=status)

    # ---------------------------------------------------------------- REST
    @app.post("/v1/users/{user_id}/sync", tags=["sync"], status_code=202)
    async def request_sync(
        container: Container, caller: Caller, user_id: UserIdPath, body: SyncBody
    ) -> dict[str, Any]:
        """Queue a sync of the given resources and time range; returns the job id."""
        _authorize(caller, user_id)
        job_id = await container.sync.request(
            user_id, resources=body.resources, start=body.start, end=body.end
        )
        return {"job_id": job_id, "status": "queued", "links": {"job": f"/v1/jobs/{job_id}"}}

    @app.get("/v1/jobs/{job_id}", tags=["sync"])
    async def get_job(
        container: Container,
        caller: Caller,
        job_id: Annotated[str, Path(max_length=200)],
    ) -> dict[str, Any]:
        """Progress of one sync/backfill job (pages, records, windows, status, error)."""
        job = await container.jobs.get(job_id)
        if job is None or not caller.may_access(job.user_id):
            # Same answer for "absent" and "someone else's": ids are not an oracle.
            raise RequestRejected(404, "unknown job")
        return {
            "job_id": job.job_id,
            "user_id": job.user_id,
            "reason": job.reason,
            "status": job.status,
            "resources": list(job.resources),
            "start": job.start,
            "end": job.end,
            "pages": job.pages,
            "records": job.records,
            "windows_total": job.windows_total,
            "windows_done": job.windows_done,
            "error": job.error,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        }

    @app.get("/v1/users/{user_id}/status", tags=["sync"])
    async def user_status(
        container: Container, caller: Caller, user_id: UserIdPath
    ) -> dict[str, Any]:
        """Reauth state, last successful sync and freshness per resource."""
        _authorize(caller, user_id)
        return await container.sync.status(user_id)

    return app
