"""OAuth: code flow, client auth, rotation, reuse, expiry, scopes, state, revoke."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import ALL_SCOPES, REDIRECT, SECRET, FakeWallClock, authorize, bearer
from fastapi.testclient import TestClient

from whoop_simulator import schemas

PROFILE = "/developer/v2/user/profile/basic"


def _refresh(client: TestClient, token: str) -> tuple[int, dict[str, Any]]:
    r = client.post(
        "/oauth/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": "wdp-local-client",
            "client_secret": SECRET,
            "scope": "offline",
        },
    )
    return r.status_code, r.json()


def test_token_response_shape(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    tok = schemas.TokenResponse.model_validate(authorize(c))
    assert tok.expires_in == 3600 and tok.refresh_token and tok.token_type == "bearer"
    assert set(tok.scope.split()) == set(ALL_SCOPES.split())


def test_refresh_rotates_and_old_tokens_die(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    first = authorize(c)
    status, second = _refresh(c, first["refresh_token"])
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    assert c.get(PROFILE, headers=bearer(first)).status_code == 401
    assert c.get(PROFILE, headers=bearer(second)).status_code == 200
    status, err = _refresh(c, first["refresh_token"])
    assert status == 400 and err["error"] == "invalid_grant"
    assert _refresh(c, second["refresh_token"])[0] == 200


def test_access_token_expires(client_factory: Callable[..., TestClient]) -> None:
    clock = FakeWallClock()
    c = client_factory(wall_clock=clock, token_ttl_s=60)
    tok = authorize(c)
    assert c.get(PROFILE, headers=bearer(tok)).status_code == 200
    clock.t += 61
    r = c.get(PROFILE, headers=bearer(tok))
    assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]
    assert _refresh(c, tok["refresh_token"])[0] == 200  # refresh still works


def test_client_auth(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    r = c.post(
        "/oauth/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=("wdp-local-client", SECRET),
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = c.post(
        "/oauth/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": "wdp-local-client",
            "client_secret": "nope",
        },
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    schemas.OAuthError.model_validate(r.json())


def test_code_is_single_use_and_redirect_must_match(
    client_factory: Callable[..., TestClient],
) -> None:
    c = client_factory()
    r = c.get(
        "/oauth/oauth2/auth",
        params={"response_type": "code", "client_id": "wdp-local-client", "redirect_uri": REDIRECT,
                "scope": ALL_SCOPES, "state": "abcdefgh", "user_id": "10100", "approve": "true"},
        follow_redirects=False,
    )  # fmt: skip
    code = r.headers["location"].split("code=")[1].split("&")[0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "wdp-local-client",
        "client_secret": SECRET,
    }
    bad = c.post("/oauth/oauth2/token", data={**form, "redirect_uri": REDIRECT + "/"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    again = c.post("/oauth/oauth2/token", data={**form, "redirect_uri": REDIRECT})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_short_state_and_consent_page(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory(redirect_uris=[REDIRECT])
    base = {
        "response_type": "code",
        "client_id": "wdp-local-client",
        "redirect_uri": REDIRECT,
        "scope": "read:sleep",
    }
    short = c.get("/oauth/oauth2/auth", params={**base, "state": "1234567"}, follow_redirects=False)
    assert short.status_code == 302 and "error=invalid_state" in short.headers["location"]
    page = c.get("/oauth/oauth2/auth", params={**base, "state": "12345678"})
    assert page.status_code == 200 and "user 10100" in page.text and "approve=true" in page.text
    wrong = c.get(
        "/oauth/oauth2/auth", params={**base, "state": "12345678", "redirect_uri": "http://evil/cb"}
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"


def test_no_offline_no_refresh_token(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    tok = authorize(c, scope="read:sleep")
    assert "refresh_token" not in tok


def test_missing_scope_is_401_insufficient_scope(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    tok = authorize(c, scope="read:sleep read:profile")
    assert c.get("/developer/v2/activity/sleep", headers=bearer(tok)).status_code == 200
    r = c.get("/developer/v2/recovery", headers=bearer(tok))
    assert r.status_code == 401 and 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert c.get("/developer/v2/cycle").status_code == 401  # no token at all


def test_revoke(client_factory: Callable[..., TestClient]) -> None:
    c = client_factory()
    tok = authorize(c)
    r = c.delete("/developer/v2/user/access", headers=bearer(tok))
    assert r.status_code == 204 and r.content == b""
    assert c.get(PROFILE, headers=bearer(tok)).status_code == 401
    assert _refresh(c, tok["refresh_token"])[0] == 400
