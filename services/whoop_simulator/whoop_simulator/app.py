"""The WHOOP API v2 simulator as a FastAPI app, at WHOOP's real paths.

* ``/oauth/oauth2/auth`` and ``/oauth/oauth2/token``: authorization-code flow (§3).
* ``/developer/v2/...`` and ``/developer/v1/activity-mapping/{id}``: the data API (§5) with
  WHOOP's paging, errors, scopes and rate limits.
* ``/admin/...``: simulator control (faults, time, re-score/delete, webhook URL, delivery log,
  ground truth), guarded by the ``X-Admin-Token`` header (``SimulatorConfig.admin_token``).

Error choices where WHOOP is silent: a token without the endpoint's scope gets **401** with
``WWW-Authenticate: Bearer error="insufficient_scope"``; ``limit`` > 25 gets **400**; data-API
error bodies are ``{"error", "error_description"}`` (WHOOP specifies none).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from whoop_simulator import ground_truth
from whoop_simulator.config import SimulatorConfig
from whoop_simulator.corruption import maybe_corrupt
from whoop_simulator.exceptions import ApiFailure, OAuthFailure
from whoop_simulator.generator import RESOURCES, Resource, SimUser
from whoop_simulator.oauth import KNOWN_SCOPES, AccessToken
from whoop_simulator.state import Faults, SimState
from whoop_simulator.timeutil import iso_ms, parse_iso

logger = logging.getLogger(__name__)

MAX_LIMIT = 25
DEFAULT_LIMIT = 10
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
ADMIN_HEADER = "X-Admin-Token"


def create_app(
    config: SimulatorConfig,
    *,
    wall_clock: Callable[[], float] | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the simulator: generate the users, wire OAuth, limits, faults and webhooks.

    Args:
        config: simulator settings.
        wall_clock: ``() -> float`` epoch seconds for token expiry and rate windows (tests).
        webhook_transport: httpx transport for webhook deliveries (tests use MockTransport).

    Returns:
        The FastAPI app; ``app.state.sim`` is the :class:`~whoop_simulator.state.SimState`.
    """
    kwargs: dict[str, Any] = {"webhook_transport": webhook_transport}
    if wall_clock is not None:
        kwargs["wall_clock"] = wall_clock
    state = SimState(config, **kwargs)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick(state))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await state.webhooks.aclose()

    app = FastAPI(title="WHOOP API v2 simulator", lifespan=lifespan)
    app.state.sim = state
    _install_errors(app)
    _oauth_routes(app, state)
    _data_routes(app, state)
    _admin_routes(app, state)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _tick(state: SimState) -> None:
    """Fire webhooks for changes that became visible as the clock moved (live mode)."""
    while True:
        try:
            state.fire_due()
        except Exception:  # keep the ticker alive; the failure is logged with its traceback
            logger.exception("webhook tick failed")
        await asyncio.sleep(state.config.tick_interval_s)


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------
def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiFailure)
    async def _api_failure(request: Request, exc: ApiFailure) -> Response:
        headers = dict(getattr(request.state, "rate_headers", {}))
        headers.update(exc.headers)
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description},
            status_code=exc.status,
            headers=headers,
        )

    @app.exception_handler(OAuthFailure)
    async def _oauth_failure(_request: Request, exc: OAuthFailure) -> Response:
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description},
            status_code=exc.status,
            headers={"Cache-Control": "no-store"},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse(
            {"error": "invalid_request", "error_description": str(exc.errors()[:1])},
            status_code=400,
        )


# ---------------------------------------------------------------------------------------------
# OAuth
# ---------------------------------------------------------------------------------------------
def _oauth_routes(app: FastAPI, state: SimState) -> None:
    cfg = state.config

    @app.get("/oauth/oauth2/auth", response_model=None)
    async def authorize(request: Request) -> Response:
        q = request.query_params
        client_id = q.get("client_id")
        redirect_uri = q.get("redirect_uri") or ""
        if client_id != cfg.client_id:
            raise OAuthFailure("invalid_client", "Unknown client_id", 400)
        if not redirect_uri or (cfg.redirect_uris and redirect_uri not in cfg.redirect_uris):
            raise OAuthFailure(
                "invalid_request",
                "The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's "
                "pre-registered redirect urls.",
            )
        state_param = q.get("state") or ""

        def fail(error: str, description: str) -> Response:
            params = {"error": error, "error_description": description, "state": state_param}
            return RedirectResponse(_with_query(redirect_uri, params), status_code=302)

        if q.get("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be 'code'")
        if len(state_param) < 8:
            return fail("invalid_state", "The state is missing or has less than 8 characters")
        scopes = frozenset((q.get("scope") or "").split())
        if not scopes or not scopes <= KNOWN_SCOPES:
            return fail("invalid_scope", f"Unknown scope(s): {sorted(scopes - KNOWN_SCOPES)}")
        if q.get("deny") in ("1", "true"):
            return fail("access_denied", "The resource owner denied the request")
        user_param = q.get("user_id")
        approve = (
            cfg.auto_approve
            or q.get("approve") in ("1", "true")
            or q.get("auto_approve") in ("1", "true")
        )
        if user_param is not None and approve:
            if not user_param.isdigit() or int(user_param) not in state.users:
                raise OAuthFailure("invalid_request", f"Unknown simulated user_id {user_param}")
            code = state.oauth.issue_code(int(user_param), cfg.client_id, redirect_uri, scopes)
            return RedirectResponse(
                _with_query(
                    redirect_uri,
                    {"code": code, "scope": " ".join(sorted(scopes)), "state": state_param},
                ),
                status_code=302,
            )
        return HTMLResponse(_consent_page(state, dict(q), scopes))

    @app.post("/oauth/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        if request.headers.get("authorization", "").lower().startswith("basic "):
            raise OAuthFailure(
                "invalid_client",
                "Client authentication failed: this server accepts client_secret_post only",
                401,
            )
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        state.oauth.check_client(fields.get("client_id"), fields.get("client_secret"))
        grant = fields.get("grant_type")
        if grant == "authorization_code":
            body = state.oauth.exchange_code(fields.get("code"), fields.get("redirect_uri"))
        elif grant == "refresh_token":
            body = state.oauth.refresh(fields.get("refresh_token"))
        else:
            raise OAuthFailure("unsupported_grant_type", f"grant_type {grant!r} is not supported")
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _consent_page(state: SimState, query: dict[str, str], scopes: frozenset[str]) -> str:
    rows = []
    for user in state.users.values():
        link = "/oauth/oauth2/auth?" + urlencode(
            {**query, "user_id": str(user.user_id), "approve": "true"}
        )
        p = user.profile
        rows.append(
            f'<li><a href="{html.escape(link)}">{html.escape(p["first_name"])} '
            f"{html.escape(p['last_name'])} (user {user.user_id})</a></li>"
        )
    deny = "/oauth/oauth2/auth?" + urlencode({**query, "deny": "true"})
    return (
        "<!doctype html><html><head><title>WHOOP simulator: authorize</title></head><body>"
        f"<h1>Authorize {html.escape(query.get('client_id', ''))}</h1>"
        f"<p>Requested scopes: {html.escape(' '.join(sorted(scopes)))}</p>"
        "<p>Pick the simulated member who consents:</p>"
        f"<ul>{''.join(rows)}</ul>"
        f'<p><a href="{html.escape(deny)}">Deny</a></p></body></html>'
    )


# ---------------------------------------------------------------------------------------------
# data API
# ---------------------------------------------------------------------------------------------
async def _guard(request: Request, state: SimState, scope: str | None) -> AccessToken:
    """Auth → rate limit → injected latency/timeouts/5xx, in the order WHOOP's edge would."""
    token = state.oauth.authenticate(request.headers.get("authorization"), scope)
    decision = state.limiter.hit(token.client_id)
    request.state.rate_headers = decision.headers
    if not decision.allowed:
        raise ApiFailure(429, "rate_limited", "Too Many Requests")
    faults = state.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.timeout_rate and state.rng.random() < faults.timeout_rate:
        await asyncio.sleep(faults.timeout_s)
        raise ApiFailure(504, "gateway_timeout", "Upstream timed out (injected fault)")
    if faults.error_rate and state.rng.random() < faults.error_rate:
        raise ApiFailure(
            faults.error_status, "server_error", "Server error occurred while making request"
        )
    return token


def _respond(request: Request, state: SimState, payload: Any) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    if state.faults.truncate_rate and state.rng.random() < state.faults.truncate_rate:
        body = body[: max(1, len(body) // 2)]
    return Response(
        body,
        media_type="application/json",
        headers=dict(getattr(request.state, "rate_headers", {})),
    )


def _served(state: SimState, resource: Resource, rec: dict[str, Any]) -> dict[str, Any]:
    key = str(rec["cycle_id"] if resource == "recovery" else rec["id"])
    return maybe_corrupt(rec, resource, key, state.config.seed, state.faults.corrupt_rate)


def _parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiFailure(400, "invalid_request", f"limit must be an integer 1..{MAX_LIMIT}")
    return int(raw)


def _parse_time(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_iso(raw)
    except ValueError as exc:
        raise ApiFailure(400, "invalid_request", f"{name} is not a valid date-time") from exc


def _encode_token(start_ms: int, key: str) -> str:
    return base64.urlsafe_b64encode(f"{start_ms}:{key}".encode()).decode().rstrip("=")


def _decode_token(raw: str) -> tuple[int, str]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        start, key = text.split(":", 1)
        return int(start), key
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiFailure(400, "invalid_request", "nextToken is not valid") from exc


def _sort_key(resource: Resource, key: str) -> tuple[int, str]:
    # Numeric cycle ids sort numerically; UUIDs lexically.
    return (int(key), "") if resource in ("cycle", "recovery") else (0, key)


def _collection(
    request: Request, state: SimState, user_id: int, resource: Resource
) -> dict[str, Any]:
    q = request.query_params
    limit = _parse_limit(q.get("limit"))
    start = _parse_time(q.get("start"), "start")
    end = _parse_time(q.get("end"), "end")
    cursor = _decode_token(q["nextToken"]) if q.get("nextToken") else None
    now = state.clock.now_ms()
    items: list[tuple[int, tuple[int, str], str, dict[str, Any]]] = []
    for tl in state.index[user_id][resource].values():
        v = tl.at(now)
        if v is None:
            continue
        if end is not None and v.start_ms >= end:
            continue
        if start is not None and v.end_ms is not None and v.end_ms <= start:
            continue  # finished before the window (an open record is still under way)
        items.append((v.start_ms, _sort_key(resource, tl.key), tl.key, v.record))
    items.sort(key=lambda it: (it[0], it[1]), reverse=True)
    if cursor is not None:
        c = (cursor[0], _sort_key(resource, cursor[1]))
        items = [it for it in items if (it[0], it[1]) < c]
    page = items[:limit]
    out: dict[str, Any] = {"records": [_served(state, resource, it[3]) for it in page]}
    if len(items) > limit:
        out["next_token"] = _encode_token(page[-1][0], page[-1][2])
    return out


def _user(state: SimState, token: AccessToken) -> SimUser:
    return state.users[token.user_id]


def _visible(state: SimState, user_id: int, resource: Resource, key: str) -> dict[str, Any]:
    tl = state.index[user_id][resource].get(key)
    v = tl.at(state.clock.now_ms()) if tl is not None else None
    if v is None:
        raise ApiFailure(404, "not_found", f"No {resource} with id {key}")
    return v.record


def _cycle_key(raw: str) -> str:
    if not raw.isdigit() or int(raw) >= 2**63:
        raise ApiFailure(400, "invalid_request", "cycleId must be an int64")
    return str(int(raw))


def _uuid_key(raw: str, name: str) -> str:
    if not UUID_RE.match(raw):
        raise ApiFailure(400, "invalid_request", f"{name} must be a UUID")
    return raw.lower()


def _data_routes(app: FastAPI, state: SimState) -> None:
    base = "/developer"

    @app.get(base + "/v2/user/profile/basic")
    async def profile(request: Request) -> Response:
        token = await _guard(request, state, "read:profile")
        return _respond(request, state, _user(state, token).profile)

    @app.get(base + "/v2/user/measurement/body")
    async def body(request: Request) -> Response:
        token = await _guard(request, state, "read:body_measurement")
        measurement = _user(state, token).body
        if measurement is None:
            raise ApiFailure(404, "not_found", "No current body measurement on file")
        return _respond(request, state, measurement)

    @app.delete(base + "/v2/user/access")
    async def revoke(request: Request) -> Response:
        token = await _guard(request, state, None)
        state.oauth.revoke_user(token.user_id)
        return Response(status_code=204, headers=dict(request.state.rate_headers))

    @app.get(base + "/v2/cycle")
    async def cycles(request: Request) -> Response:
        token = await _guard(request, state, "read:cycles")
        return _respond(request, state, _collection(request, state, token.user_id, "cycle"))

    @app.get(base + "/v2/cycle/{cycle_id}")
    async def cycle(request: Request, cycle_id: str) -> Response:
        token = await _guard(request, state, "read:cycles")
        key = _cycle_key(cycle_id)
        rec = _visible(state, token.user_id, "cycle", key)
        return _respond(request, state, _served(state, "cycle", rec))

    @app.get(base + "/v2/cycle/{cycle_id}/sleep")
    async def cycle_sleep(request: Request, cycle_id: str) -> Response:
        token = await _guard(request, state, "read:sleep")
        key = int(_cycle_key(cycle_id))
        _visible(state, token.user_id, "cycle", str(key))
        now = state.clock.now_ms()
        for tl in state.index[token.user_id]["sleep"].values():
            v = tl.at(now)
            if v is not None and v.record["cycle_id"] == key and not v.record["nap"]:
                return _respond(request, state, v.record)
        raise ApiFailure(404, "not_found", f"No sleep for cycle {key}")

    @app.get(base + "/v2/cycle/{cycle_id}/recovery")
    async def cycle_recovery(request: Request, cycle_id: str) -> Response:
        token = await _guard(request, state, "read:recovery")
        key = _cycle_key(cycle_id)
        rec = _visible(state, token.user_id, "recovery", key)
        return _respond(request, state, _served(state, "recovery", rec))

    @app.get(base + "/v2/recovery")
    async def recoveries(request: Request) -> Response:
        token = await _guard(request, state, "read:recovery")
        return _respond(request, state, _collection(request, state, token.user_id, "recovery"))

    @app.get(base + "/v2/activity/sleep")
    async def sleeps(request: Request) -> Response:
        token = await _guard(request, state, "read:sleep")
        return _respond(request, state, _collection(request, state, token.user_id, "sleep"))

    @app.get(base + "/v2/activity/sleep/{sleep_id}")
    async def sleep(request: Request, sleep_id: str) -> Response:
        token = await _guard(request, state, "read:sleep")
        rec = _visible(state, token.user_id, "sleep", _uuid_key(sleep_id, "sleepId"))
        return _respond(request, state, rec)

    @app.get(base + "/v2/activity/workout")
    async def workouts(request: Request) -> Response:
        token = await _guard(request, state, "read:workout")
        return _respond(request, state, _collection(request, state, token.user_id, "workout"))

    @app.get(base + "/v2/activity/workout/{workout_id}")
    async def workout(request: Request, workout_id: str) -> Response:
        token = await _guard(request, state, "read:workout")
        rec = _visible(state, token.user_id, "workout", _uuid_key(workout_id, "workoutId"))
        return _respond(request, state, _served(state, "workout", rec))

    @app.get(base + "/v1/activity-mapping/{activity_v1_id}")
    async def activity_mapping(request: Request, activity_v1_id: str) -> Response:
        await _guard(request, state, None)
        if not activity_v1_id.isdigit():
            raise ApiFailure(400, "invalid_request", "activityV1Id must be an int64")
        v2 = state.v1_map.get(int(activity_v1_id))
        if v2 is None:
            raise ApiFailure(404, "not_found", "No v2 activity maps to that v1 id")
        return _respond(request, state, {"v2_activity_id": v2})


# ---------------------------------------------------------------------------------------------
# admin API
# ---------------------------------------------------------------------------------------------
def _check_admin(request: Request, state: SimState) -> None:
    supplied = request.headers.get(ADMIN_HEADER, "")
    expected = state.config.admin_token.get_secret_value()
    if not supplied or supplied != expected:
        raise ApiFailure(401, "unauthorized", f"Missing or wrong {ADMIN_HEADER} header")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _admin_routes(app: FastAPI, state: SimState) -> None:
    @app.get("/admin/users")
    async def users(request: Request) -> list[dict[str, Any]]:
        _check_admin(request, state)
        return [
            {
                "user_id": u.user_id,
                "index": u.index,
                "profile": u.profile,
                "has_body_measurement": u.body is not None,
                "authorized": state.oauth.has_grant(u.user_id),
            }
            for u in state.users.values()
        ]

    @app.get("/admin/ground-truth/{user_id}")
    async def truth(request: Request, user_id: int) -> dict[str, Any]:
        _check_admin(request, state)
        user = state.users.get(user_id)
        if user is None:
            raise ApiFailure(404, "not_found", f"No simulated user {user_id}")
        now = state.clock.now_ms()
        gold = ground_truth.expected_gold(
            user, as_of_ms=now, corrupt_rate=state.faults.corrupt_rate
        )
        return {
            "user_id": user_id,
            "as_of": iso_ms(now),
            "gold": _jsonable(gold),
            "anomaly_days": [d.isoformat() for d in ground_truth.anomaly_days(user)],
            "events": _jsonable(ground_truth.events(user)),
        }

    @app.get("/admin/faults")
    async def get_faults(request: Request) -> dict[str, Any]:
        _check_admin(request, state)
        return state.faults.model_dump()

    @app.put("/admin/faults")
    async def put_faults(request: Request) -> dict[str, Any]:
        """Merge the JSON body into the current faults (unknown keys → 400)."""
        _check_admin(request, state)
        try:
            body = await request.json()
            merged = Faults.model_validate({**state.faults.model_dump(), **dict(body)})
        except (ValueError, TypeError, ValidationError) as exc:
            raise ApiFailure(400, "invalid_request", str(exc)[:300]) from exc
        state.set_faults(merged)
        return merged.model_dump()

    @app.delete("/admin/faults")
    async def reset_faults(request: Request) -> dict[str, Any]:
        _check_admin(request, state)
        state.set_faults(Faults())
        return state.faults.model_dump()

    @app.get("/admin/webhook")
    async def get_webhook(request: Request) -> dict[str, Any]:
        _check_admin(request, state)
        return {"url": state.webhooks.url, "retry_schedule_s": state.webhooks.retry_schedule_s}

    @app.put("/admin/webhook")
    async def put_webhook(request: Request) -> dict[str, Any]:
        """Register the app's webhook URL (and optionally the retry schedule)."""
        _check_admin(request, state)
        body = await request.json()
        url = body.get("url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            raise ApiFailure(400, "invalid_request", "url must be http(s)")
        state.webhooks.url = url
        if "retry_schedule_s" in body:
            state.webhooks.retry_schedule_s = [float(x) for x in body["retry_schedule_s"]]
        return {"url": state.webhooks.url, "retry_schedule_s": state.webhooks.retry_schedule_s}

    @app.get("/admin/webhooks/deliveries")
    async def deliveries(request: Request) -> dict[str, Any]:
        _check_admin(request, state)
        return {"pending": state.webhooks.pending, "deliveries": state.webhooks.log}

    @app.get("/admin/time")
    async def get_time(request: Request) -> dict[str, Any]:
        _check_admin(request, state)
        return {
            "now": iso_ms(state.clock.now_ms()),
            "mode": state.config.mode,
            "speed": state.config.speed,
        }

    @app.post("/admin/time/advance")
    async def advance(request: Request) -> dict[str, Any]:
        """Body ``{"hours": h, "days": d}``: move simulated time and fire due webhooks."""
        _check_admin(request, state)
        body = await request.json()
        hours = float(body.get("hours", 0)) + 24 * float(body.get("days", 0))
        if hours < 0:
            raise ApiFailure(400, "invalid_request", "time only moves forward")
        fired = state.advance(hours)
        return {"now": iso_ms(state.clock.now_ms()), "webhooks_fired": fired}

    def _resource(raw: str) -> Resource:
        if raw not in RESOURCES:
            raise ApiFailure(400, "invalid_request", f"resource must be one of {RESOURCES}")
        return raw  # type: ignore[return-value]

    @app.post("/admin/records/{resource}/{user_id}/{key}/rescore")
    async def rescore(request: Request, resource: str, user_id: int, key: str) -> dict[str, Any]:
        """Re-score a record now (recoveries are keyed by cycle id)."""
        _check_admin(request, state)
        if user_id not in state.users:
            raise ApiFailure(404, "not_found", f"No simulated user {user_id}")
        try:
            return state.rescore(user_id, _resource(resource), key)
        except KeyError as exc:
            raise ApiFailure(404, "not_found", f"No visible {resource} {key}") from exc

    @app.delete("/admin/records/{resource}/{user_id}/{key}")
    async def delete(request: Request, resource: str, user_id: int, key: str) -> dict[str, Any]:
        """Delete a record now; deleting a sleep also deletes its recovery."""
        _check_admin(request, state)
        if user_id not in state.users:
            raise ApiFailure(404, "not_found", f"No simulated user {user_id}")
        try:
            return {"webhooks": state.delete(user_id, _resource(resource), key)}
        except KeyError as exc:
            raise ApiFailure(404, "not_found", f"No visible {resource} {key}") from exc
