"""Webhook acknowledgement latency of the real receiver process at 200 requests/s.

Starts ``python -m receiver`` (uvicorn, LocalBus, SQLite dedupe) on a free port in a temp data
dir, then sends validly signed, distinct WHOOP webhooks open-loop at a fixed 200 req/s (each
request is sent at its scheduled instant whether or not earlier ones returned, so a slow server
cannot hide its queueing) and records the time from send to the 2xx answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench import BenchResult
from shared.whoop_signature import sign

RATE = 200
DURATION_S = 15.0
WARMUP = 200
SECRET = "bench-client-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _request(i: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "user_id": 10_000 + i % 50,
            "id": str(uuid.uuid4()),
            "type": "sleep.updated",
            "trace_id": str(uuid.uuid4()),
        },
        separators=(",", ":"),
    ).encode()
    ts = str(int(time.time() * 1000))
    return body, {
        "X-WHOOP-Signature": sign(SECRET, ts, body),
        "X-WHOOP-Signature-Timestamp": ts,
        "Content-Type": "application/json",
    }


async def _load(base: str) -> tuple[list[float], int]:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10.0) as client:
        for i in range(WARMUP):  # warm connections, JIT-free but caches and SQLite pages
            body, headers = _request(i)
            await client.post("/webhooks/whoop", content=body, headers=headers)
        total = int(RATE * DURATION_S)
        prepared = [_request(WARMUP + i) for i in range(total)]

        async def one(i: int, at: float) -> None:
            nonlocal failures
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            body, headers = prepared[i]
            sent = time.perf_counter()
            resp = await client.post("/webhooks/whoop", content=body, headers=headers)
            latencies.append(time.perf_counter() - sent)
            if resp.status_code // 100 != 2:
                failures += 1

        t0 = time.perf_counter() + 0.2
        await asyncio.gather(*(one(i, t0 + i / RATE) for i in range(total)))
    return latencies, failures


def run(results_dir: Path) -> list[BenchResult]:  # noqa: ARG001 - results written by caller
    """Start the receiver, load it, stop it; returns p50 and p99."""
    with tempfile.TemporaryDirectory(prefix="wdp-bench-rx-") as tmp:
        port = _free_port()
        env = {
            **os.environ,
            "WDP_DATA_DIR": tmp,
            "WDP_WHOOP_CLIENT_SECRET": SECRET,
            "WDP_RECEIVER_PORT": str(port),
            "WDP_RECEIVER_HOST": "127.0.0.1",
            "WDP_LOG_LEVEL": "WARNING",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "receiver"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"receiver did not start: {err[-2000:]}")
                time.sleep(0.2)
            latencies, failures = asyncio.run(_load(base))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    ms = [x * 1000 for x in latencies]
    p50, p99 = round(_percentile(ms, 0.50), 2), round(_percentile(ms, 0.99), 2)
    details: dict[str, object] = {
        "rate_per_s": RATE,
        "duration_s": DURATION_S,
        "requests": len(ms),
        "non_2xx": failures,
        "mean_ms": round(statistics.fmean(ms), 2),
        "p50_ms": p50,
        "p95_ms": round(_percentile(ms, 0.95), 2),
        "p99_ms": p99,
        "max_ms": round(max(ms), 2),
        "setup": "python -m receiver (uvicorn, 1 worker), LocalBus + SQLite dedupe, "
        "open-loop httpx client on the same 2-core machine",
    }
    return [
        BenchResult(
            name="webhook_ack_p99",
            metric="p99 ack latency",
            value=p99,
            unit="ms",
            goal="< 50 ms at 200 req/s",
            details=details,
        ),
        BenchResult(
            name="webhook_ack_p50",
            metric="p50 ack latency",
            value=p50,
            unit="ms",
            goal="informational",
            details=details,
        ),
    ]
