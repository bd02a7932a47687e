"""JSON API under ``/api/v1``: one endpoint per page, typed by the response models.

Error mapping (shared with the HTML pages, which render the same statuses as pages):
401 unknown/missing key, 403 another member's data or a member on an admin page,
503 + ``Retry-After`` when the warehouse is busy (the DuckDB lock is held by a writer).
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dashboard.domain.models import (
    AggregatesResponse,
    DataQualityResponse,
    OverviewResponse,
    Period,
    SleepResponse,
    UsersResponse,
    WorkoutsResponse,
)
from dashboard.entrypoints.deps import Caller, Service
from dashboard.entrypoints.pages import render_error
from dashboard.exceptions import Forbidden, Unauthenticated
from shared.errors import TransientError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["api"])

UserId = Annotated[int, Path(description="WHOOP user id", ge=0)]
Days = Annotated[int | None, Query(ge=1, le=730, description="window length in days")]
_RETRY_AFTER_S = "2"


@router.get("/users", response_model=UsersResponse)
def list_users(service: Service, caller: Caller) -> UsersResponse:
    """Members the caller may read."""
    return service.users(caller)


@router.get("/users/{user_id}/overview", response_model=OverviewResponse)
def overview(user_id: UserId, service: Service, caller: Caller) -> OverviewResponse:
    """Latest recovery/strain/sleep, the recovery trend with predictions and anomalies."""
    return service.overview(caller, user_id)


@router.get("/users/{user_id}/sleep", response_model=SleepResponse)
def sleep(user_id: UserId, service: Service, caller: Caller, days: Days = None) -> SleepResponse:
    """Sleep stages per night."""
    return service.sleep(caller, user_id, days)


@router.get("/users/{user_id}/workouts", response_model=WorkoutsResponse)
def workouts(
    user_id: UserId, service: Service, caller: Caller, days: Days = None
) -> WorkoutsResponse:
    """Workouts by activity type and the newest workouts."""
    return service.workouts(caller, user_id, days)


@router.get("/users/{user_id}/aggregates/{period}", response_model=AggregatesResponse)
def aggregates(
    user_id: UserId, period: Period, service: Service, caller: Caller
) -> AggregatesResponse:
    """Weekly or monthly averages."""
    return service.aggregates(caller, user_id, period)


@router.get("/data-quality", response_model=DataQualityResponse)
def data_quality(service: Service, caller: Caller) -> DataQualityResponse:
    """DQ mart totals, quarantine and freshness (admin keys only)."""
    return service.data_quality(caller)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install_error_handlers(app: FastAPI) -> None:
    """Map dashboard errors to statuses: JSON under ``/api``, pages elsewhere."""

    async def unauthenticated(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=401)
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        log.info("forbidden", extra={"path": request.url.path, "reason": str(exc)})
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return render_error(request, 403, "Not allowed", str(exc))

    async def busy(request: Request, exc: Exception) -> Response:
        log.warning("warehouse busy", extra={"path": request.url.path, "error": str(exc)})
        headers = {"Retry-After": _RETRY_AFTER_S}
        if _is_api(request):
            return JSONResponse(
                {"detail": "warehouse busy, retry shortly"}, status_code=503, headers=headers
            )
        response = render_error(
            request, 503, "Warehouse busy", "A pipeline run holds the warehouse; retry shortly."
        )
        response.headers.update(headers)
        return response

    app.add_exception_handler(Unauthenticated, unauthenticated)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(TransientError, busy)
