"""Server-rendered HTML pages (Jinja2, autoescaped) with inline SVG charts.

Every page renders the same response model its JSON endpoint returns; charts come from
:mod:`dashboard.charts`. Static assets are served from the package (no CDN, works offline).
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dashboard import charts
from dashboard.auth import Principal
from dashboard.entrypoints.deps import SESSION_COOKIE, Caller, Container, Service
from dashboard.exceptions import Unauthenticated

TEMPLATES = Jinja2Templates(directory=FsPath(__file__).resolve().parent.parent / "templates")

router = APIRouter(include_in_schema=False)

UserId = Annotated[int, Path(ge=0)]


def _num(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _hm(minutes: float | None) -> str:
    if minutes is None:
        return "–"
    total = int(round(minutes))
    return f"{total // 60}h {total % 60:02d}m"


TEMPLATES.env.filters["num"] = _num
TEMPLATES.env.filters["hm"] = _hm


def _page(
    request: Request,
    template: str,
    caller: Principal | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, {"caller": caller, **context}, status_code=status_code
    )


def render_error(request: Request, status_code: int, title: str, detail: str) -> HTMLResponse:
    """An error page with the given status (403, 503)."""
    return _page(request, "error.html", None, status_code=status_code, title=title, detail=detail)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: a login link must not redirect off the dashboard."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, container: Container, next: str = "/") -> HTMLResponse:
    """The API-key form."""
    return _page(
        request,
        "login.html",
        None,
        next=_safe_next(next),
        error=None,
        configured=container.auth.configured,
    )


@router.post("/login", response_model=None)
def login(
    request: Request,
    container: Container,
    api_key: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the key, then keep it in an HttpOnly, SameSite=Strict cookie."""
    try:
        container.auth.authenticate(api_key)
    except Unauthenticated:
        return _page(
            request,
            "login.html",
            None,
            status_code=401,
            next=_safe_next(next),
            error="Unknown API key.",
            configured=container.auth.configured,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        api_key,
        httponly=True,
        samesite="strict",
        secure=container.settings.secure_cookie,
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    """Forget the key."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse, response_model=None)
def index(request: Request, service: Service, caller: Caller) -> Response:
    """Member picker; a key for exactly one member goes straight to that member."""
    users = service.users(caller)
    if not caller.admin and len(users.users) == 1:
        return RedirectResponse(f"/users/{users.users[0].user_id}", status_code=303)
    return _page(request, "users.html", caller, users=users)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def overview_page(
    request: Request, user_id: UserId, service: Service, caller: Caller
) -> HTMLResponse:
    """Latest cards and the 90-day recovery trend with predictions."""
    view = service.overview(caller, user_id)
    chart = charts.recovery_trend(view.trend, view.next_day)
    return _page(
        request, "overview.html", caller, user_id=user_id, view=view, chart=chart, tab="overview"
    )


@router.get("/users/{user_id}/sleep", response_class=HTMLResponse)
def sleep_page(request: Request, user_id: UserId, service: Service, caller: Caller) -> HTMLResponse:
    """Stages per night."""
    view = service.sleep(caller, user_id)
    chart = charts.sleep_stages(view.nights, view.stages)
    return _page(
        request, "sleep.html", caller, user_id=user_id, view=view, chart=chart, tab="sleep"
    )


@router.get("/users/{user_id}/workouts", response_class=HTMLResponse)
def workouts_page(
    request: Request, user_id: UserId, service: Service, caller: Caller
) -> HTMLResponse:
    """Workouts by activity type."""
    view = service.workouts(caller, user_id)
    chart = charts.activity_bars(view.by_activity)
    return _page(
        request, "workouts.html", caller, user_id=user_id, view=view, chart=chart, tab="workouts"
    )


@router.get("/users/{user_id}/trends", response_class=HTMLResponse)
def trends_page(
    request: Request, user_id: UserId, service: Service, caller: Caller
) -> HTMLResponse:
    """Weekly and monthly aggregates."""
    weekly = service.aggregates(caller, user_id, "weekly")
    monthly = service.aggregates(caller, user_id, "monthly")
    chart_set = {
        name: {
            "recovery": charts.aggregate_line(
                agg.rows, "avg_recovery_score", y_max=100, colour="#16ec06", label="recovery"
            ),
            "strain": charts.aggregate_line(
                agg.rows, "avg_day_strain_score", y_max=21, colour="#4dabf7", label="strain"
            ),
        }
        for name, agg in (("weekly", weekly), ("monthly", monthly))
    }
    return _page(
        request,
        "trends.html",
        caller,
        user_id=user_id,
        weekly=weekly,
        monthly=monthly,
        charts=chart_set,
        tab="trends",
    )


@router.get("/quality", response_class=HTMLResponse)
def quality_page(request: Request, service: Service, caller: Caller) -> HTMLResponse:
    """Data quality: mart totals, quarantine, freshness (admins only)."""
    view = service.data_quality(caller)
    return _page(request, "quality.html", caller, view=view, tab="quality")
