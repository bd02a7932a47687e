"""Shared route dependencies: the container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Depends, Header, Request

from dashboard.auth import Principal
from dashboard.bootstrap import DashboardContainer
from dashboard.handlers import DashboardService

#: HttpOnly cookie the login form sets; holds the API key the member typed.
SESSION_COOKIE = "wdp_dashboard_key"


def _container(request: Request) -> DashboardContainer:
    container: DashboardContainer = request.app.state.container
    return container


def _service(request: Request) -> DashboardService:
    return _container(request).service


def _principal(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Principal:
    """``X-API-Key`` (API clients) or the login cookie (browsers); raises Unauthenticated."""
    return _container(request).auth.authenticate(x_api_key or session)


Container = Annotated[DashboardContainer, Depends(_container)]
Service = Annotated[DashboardService, Depends(_service)]
Caller = Annotated[Principal, Depends(_principal)]
