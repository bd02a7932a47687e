"""OAuth connect end to end through the simulator, disconnect, and REST auth isolation."""

from __future__ import annotations

from receiver_harness import ADMIN_KEY, RX, Rx, connect

from shared.contracts import SyncRequested, Topic, UserConnected, UserDisconnected, decode


async def test_oauth_flow_stores_encrypted_tokens_and_publishes_connected(rx: Rx) -> None:
    user = rx.users[0]
    await connect(rx, user)
    stored = await rx.tokens.load_tokens(user)
    assert stored is not None and stored.refresh_token
    raw = rx.tokens.raw_ciphertext(user)
    assert raw is not None and stored.access_token.encode() not in raw
    assert stored.refresh_token.encode() not in raw
    record = await rx.tokens.get_user(user)
    assert record is not None and record.status == "active" and record.email
    [msg] = await rx.drain(Topic.USER_CONNECTED)
    event = decode(Topic.USER_CONNECTED, msg.body, msg.application_properties)
    assert isinstance(event, UserConnected) and event.user_id == user
    assert event.backfill_days == 90


async def test_state_is_single_use_and_bound_to_the_session(rx: Rx) -> None:
    login = await rx.client.get("/auth/whoop/login")
    location = login.headers["location"]
    approve = await rx.sim_client.get(f"{location}&user_id={rx.users[0]}&approve=true")
    callback = approve.headers["location"].removeprefix(RX)
    import httpx

    async with httpx.AsyncClient(
        transport=rx.client._transport, base_url=RX, cookies={"wdp_oauth_session": "someone-else"}
    ) as other:
        stranger = await other.get(callback)
    assert stranger.status_code == 400
    # The foreign attempt burned the state: even the right browser cannot use it now.
    replay = await rx.client.get(callback)
    assert replay.status_code == 400
    assert rx.client.cookies.get("wdp_oauth_session")
    forged = await rx.client.get("/auth/whoop/callback?code=x&state=unknown-state")
    assert forged.status_code == 400
    assert await rx.drain(Topic.USER_CONNECTED) == []


async def test_disconnect_revokes_deletes_tokens_and_publishes(rx: Rx) -> None:
    user = rx.users[0]
    await connect(rx, user)
    await rx.drain(Topic.USER_CONNECTED)
    denied = await rx.client.post(f"/v1/users/{user}/disconnect", headers={"X-API-Key": "k-b"})
    assert denied.status_code == 403
    resp = await rx.client.post(
        f"/v1/users/{user}/disconnect?purge=true", headers={"X-API-Key": "k-a"}
    )
    assert resp.status_code == 202
    assert not rx.sim.state.sim.oauth.has_grant(user)  # revoked at WHOOP
    assert await rx.tokens.load_tokens(user) is None
    [msg] = await rx.drain(Topic.USER_DISCONNECTED)
    event = decode(Topic.USER_DISCONNECTED, msg.body, msg.application_properties)
    assert isinstance(event, UserDisconnected) and event.purge and event.user_id == user


async def test_rest_sync_status_and_isolation(rx: Rx) -> None:
    a, b = rx.users
    await connect(rx, a)
    await connect(rx, b)
    await rx.drain(Topic.USER_CONNECTED)
    body = {
        "resources": ["sleep", "recovery"],
        "start": "2025-01-01T00:00:00Z",
        "end": "2025-02-01T00:00:00Z",
    }
    assert (await rx.client.post(f"/v1/users/{a}/sync", json=body)).status_code == 401
    assert (
        await rx.client.post(f"/v1/users/{a}/sync", json=body, headers={"X-API-Key": "wrong"})
    ).status_code == 401
    assert (
        await rx.client.post(f"/v1/users/{b}/sync", json=body, headers={"X-API-Key": "k-a"})
    ).status_code == 403
    resp = await rx.client.post(f"/v1/users/{a}/sync", json=body, headers={"X-API-Key": "k-a"})
    assert resp.status_code == 202
    job_id = resp.json()["job_id"]
    [msg] = await rx.drain(Topic.SYNC_REQUESTED)
    request = decode(Topic.SYNC_REQUESTED, msg.body, msg.application_properties)
    assert isinstance(request, SyncRequested) and request.job_id == job_id
    assert [r.value for r in request.resources] == ["sleep", "recovery"]

    mine = await rx.client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": "k-a"})
    assert mine.status_code == 200 and mine.json()["status"] == "queued"
    assert (
        await rx.client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": "k-b"})
    ).status_code == 404
    assert (
        await rx.client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": ADMIN_KEY})
    ).status_code == 200

    status = await rx.client.get(f"/v1/users/{a}/status", headers={"X-API-Key": "k-a"})
    assert status.status_code == 200
    assert status.json()["status"] == "active" and status.json()["needs_reauth"] is False
    assert (
        await rx.client.get(f"/v1/users/{a}/status", headers={"X-API-Key": "k-b"})
    ).status_code == 403
    await rx.tokens.upsert_user(b, status="needs_reauth", status_reason="invalid_grant")
    reauth = await rx.client.get(f"/v1/users/{b}/status", headers={"X-API-Key": "k-b"})
    assert reauth.json()["needs_reauth"] is True
    blocked = await rx.client.post(f"/v1/users/{b}/sync", json={}, headers={"X-API-Key": "k-b"})
    assert blocked.status_code == 409
    docs = await rx.client.get("/openapi.json")
    assert "/v1/users/{user_id}/sync" in docs.json()["paths"]
