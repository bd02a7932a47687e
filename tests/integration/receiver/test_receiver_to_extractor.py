"""One trace from the signed webhook request to the bronze blob: receiver → bus → extractor."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from receiver_harness import Rx, connect

from extractor.bootstrap import bootstrap
from extractor.settings import ExtractorSettings
from shared.adapters.blob.local import LocalBlobStore
from shared.contracts import Topic
from shared.whoop_ratelimit import RateLimits, SqliteRateLimiter


async def test_webhook_to_bronze_is_one_trace(rx: Rx, tmp_path: Path) -> None:
    user = rx.users[0]
    await connect(rx, user)
    await rx.drain(Topic.USER_CONNECTED)
    state = rx.sim.state.sim
    now = state.clock.now_ms()
    sleep_id = next(k for k, tl in state.index[user]["sleep"].items() if tl.at(now))
    body = {"user_id": user, "id": sleep_id, "type": "sleep.updated", "trace_id": "tr-1"}
    assert (await rx.webhook(body)).status_code == 202

    blobs = LocalBlobStore(tmp_path / "lake", "lake")
    app = await bootstrap(
        ExtractorSettings(),
        platform=rx.platform,
        bus=rx.bus,
        blobs=blobs,
        tokens=rx.tokens,
        secrets=rx.secrets,
        http=rx.sim_client,
        limiter=SqliteRateLimiter(tmp_path / "rl2.sqlite3", RateLimits(10_000, 100_000)),
    )
    try:
        consumer = next(c for c in app.consumers() if c.topic is Topic.WEBHOOK_RECEIVED)
        messages = await rx.bus.receive(Topic.WEBHOOK_RECEIVED.value, "extractor", max_wait_s=1)
        assert len(messages) == 1
        traceparent = messages[0].application_properties["traceparent"]
        await consumer.process(messages)
        assert consumer.processed == 1
        [info] = [i async for i in blobs.list("bronze/whoop/sleep/")]
        # traceparent = 00-<trace id>-<span id>-<flags>: the fetch ran inside the same trace.
        assert info.metadata["trace_id"] == traceparent.split("-")[1]
        [line] = gzip.decompress(await blobs.get(info.path)).splitlines()
        assert json.loads(line)["id"] == sleep_id
        # The extractor's progress is what the receiver's status endpoint reports.
        status = await rx.client.get(f"/v1/users/{user}/status", headers={"X-API-Key": "k-a"})
        resources = status.json()["resources"]
        assert {"sleep", "cycle"} <= set(resources)
        assert resources["sleep"]["freshness_s"] < 60
    finally:
        await app.close()
