"""``wdp status``: one screen that says whether the stack is healthy and every member is fresh.

It reads what the stack already writes (heartbeats, the supervisor's restart counts, the bus,
the token and job stores, the WHOOP rate-limit log, the services' JSON logs), so it needs no
running service of its own and works while parts of the stack are down.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shared.composition import (
    build_bus,
    build_job_store,
    build_secret_store,
    build_token_store,
)
from shared.contracts import SUBSCRIPTIONS
from shared.runtime.service import is_healthy
from shared.settings import PlatformSettings

console = Console()

SERVICES = ("receiver", "extractor", "loader", "transformer", "scorer")


@dataclass
class ServiceStatus:
    """Heartbeat, restarts and the last error line of one service."""

    name: str
    healthy: bool
    heartbeat_age_s: float | None
    restarts: int
    last_error: str | None


@dataclass
class QueueStatus:
    """Depth and dead letters of one subscription."""

    topic: str
    subscription: str
    active: int | None
    dead_letters: int


@dataclass
class MemberStatus:
    """Connection state and freshness of one member."""

    user_id: int
    status: str
    status_reason: str | None
    freshness_s: dict[str, float] = field(default_factory=dict)


@dataclass
class StackStatus:
    """Everything ``wdp status`` prints."""

    services: list[ServiceStatus]
    queues: list[QueueStatus]
    members: list[MemberStatus]
    whoop_calls_last_24h: int | None

    @property
    def needs_reauth(self) -> list[int]:
        """Members whose grant WHOOP rejected (their messages are parked)."""
        return [m.user_id for m in self.members if m.status == "needs_reauth"]


def _last_error(log_file: Path, max_bytes: int = 256 * 1024) -> str | None:
    """The newest error line of a JSON-lines service log (reads only the tail)."""
    try:
        with log_file.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            lines = fh.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") in ("error", "critical"):
            return f"{record.get('ts', '')} {record.get('msg', '')}"[:200]
    return None


def _services(settings: PlatformSettings) -> list[ServiceStatus]:
    health = settings.data_dir / "health"
    try:
        supervisor = json.loads((health / "supervisor.json").read_text())
    except (FileNotFoundError, ValueError):
        supervisor = {}
    out = []
    for name in SERVICES:
        age: float | None = None
        try:
            beat = json.loads((health / f"{name}.json").read_text())
            age = round(time.time() - float(beat["ts"]), 1)
        except (FileNotFoundError, ValueError, KeyError):
            pass
        healthy = is_healthy(health, name) if name != "receiver" else age is not None
        out.append(
            ServiceStatus(
                name=name,
                healthy=healthy,
                heartbeat_age_s=age,
                restarts=int(supervisor.get(name, {}).get("restarts", 0)),
                last_error=_last_error(settings.data_dir / "logs" / f"{name}.log"),
            )
        )
    return out


def _whoop_calls(settings: PlatformSettings) -> int | None:
    """Grants the shared WHOOP rate limiter handed out in the last 24 h (local profile)."""
    import sqlite3

    path = settings.data_dir / "whoop_ratelimit.sqlite3"
    if not path.exists():
        return None
    with sqlite3.connect(path) as conn:
        try:
            (n,) = conn.execute(
                "select count(*) from grants where ts > ?", (time.time() - 86_400,)
            ).fetchone()
        except sqlite3.Error:
            return None
    return int(n)


async def collect(settings: PlatformSettings) -> StackStatus:
    """Gather the status from the stores the stack writes."""
    bus = build_bus(settings)
    queues: list[QueueStatus] = []
    try:
        counter = getattr(bus, "active_count", None)
        for sub in SUBSCRIPTIONS:
            active = None if counter is None else await counter(sub.topic.value, sub.name)
            letters = await bus.list_dead_letters(sub.topic.value, sub.name, max_messages=1000)
            queues.append(QueueStatus(sub.topic.value, sub.name, active, len(letters)))
    finally:
        await bus.close()
    secrets = build_secret_store(settings)
    tokens = await build_token_store(settings, secrets)
    jobs = build_job_store(settings)
    members: list[MemberStatus] = []
    now = datetime.now(UTC)
    try:
        async for user in tokens.list_users():
            syncs = await jobs.sync_status(user.user_id)
            members.append(
                MemberStatus(
                    user.user_id,
                    user.status,
                    user.status_reason,
                    {
                        s.resource: round((now - s.last_success_at).total_seconds(), 1)
                        for s in syncs
                    },
                )
            )
    finally:
        await tokens.close()
        await jobs.close()
        await secrets.close()
    return StackStatus(_services(settings), queues, members, _whoop_calls(settings))


def status(
    data_dir: Annotated[
        Path | None, typer.Option(help="WDP_DATA_DIR of the stack (default: env or .wdp)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Health and restarts per service, queue depth and dead letters per subscription, the last
    error, members needing re-auth, WHOOP calls in the last 24 h and freshness per member."""
    settings = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
    result = asyncio.run(collect(settings))
    if as_json:
        doc: dict[str, Any] = asdict(result)
        doc["needs_reauth"] = result.needs_reauth
        typer.echo(json.dumps(doc, default=str))
        return
    services = Table(title="services")
    for column in ("service", "healthy", "heartbeat age s", "restarts", "last error"):
        services.add_column(column)
    for s in result.services:
        services.add_row(
            s.name,
            "[green]yes[/]" if s.healthy else "[red]no[/]",
            "-" if s.heartbeat_age_s is None else str(s.heartbeat_age_s),
            str(s.restarts),
            s.last_error or "",
        )
    queues = Table(title="subscriptions")
    for column in ("topic", "subscription", "active", "dead letters"):
        queues.add_column(column)
    for q in result.queues:
        queues.add_row(
            q.topic,
            q.subscription,
            "n/a" if q.active is None else str(q.active),
            str(q.dead_letters),
        )
    members = Table(title="members")
    for column in ("user", "status", "oldest sync age s", "reason"):
        members.add_column(column)
    for m in result.members:
        oldest = max(m.freshness_s.values()) if m.freshness_s else None
        members.add_row(
            str(m.user_id), m.status, "-" if oldest is None else str(oldest), m.status_reason or ""
        )
    console.print(services, queues, members)
    calls = result.whoop_calls_last_24h
    console.print(f"WHOOP calls in the last 24 h: {'n/a' if calls is None else calls} / 10,000")
    if result.needs_reauth:
        console.print(f"[yellow]needs re-auth:[/] {', '.join(map(str, result.needs_reauth))}")
