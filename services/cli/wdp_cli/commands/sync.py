"""``wdp sync``: ask the running extractor for an on-demand sync (publishes SyncRequested).

Progress is visible with ``GET /v1/jobs/<job id>`` on the receiver, or in the job store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from shared.composition import build_bus
from shared.contracts import Resource, SyncReason, SyncRequested
from shared.contracts.messages import COLLECTION_RESOURCES
from shared.settings import PlatformSettings


async def _publish(request: SyncRequested, data_dir: Path | None) -> None:
    from shared.messaging import publish_message  # adds trace context to the properties

    platform = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
    bus = build_bus(platform)
    try:
        await bus.ensure_topology()
        await publish_message(bus, request, message_id=request.job_id)
    finally:
        await bus.close()


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=value.tzinfo or UTC)


def sync(
    user: Annotated[int, typer.Option("--user", help="WHOOP user id")],
    start: Annotated[
        datetime | None,
        typer.Option(
            "--start", help="UTC start (default: the resource watermark minus the overlap)"
        ),
    ] = None,
    end: Annotated[datetime | None, typer.Option("--end", help="UTC end (default: now)")] = None,
    resource: Annotated[
        list[Resource] | None,
        typer.Option(
            "--resource", "-r", help="limit to these resources (repeatable; default all four)"
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="WDP_DATA_DIR of the local stack (default: env or .wdp)"),
    ] = None,
) -> None:
    """Publish a SyncRequested for a user; the extractor fetches it within the rate limit."""
    request = SyncRequested(
        user_id=user,
        resources=tuple(resource or COLLECTION_RESOURCES),
        start=_aware(start),
        end=_aware(end),
        reason=SyncReason.ON_DEMAND,
        requested_at=datetime.now(UTC),
    )
    asyncio.run(_publish(request, data_dir))
    typer.echo(f"queued sync job {request.job_id} for user {user}")


app = typer.Typer(help="Queue an on-demand sync for a user.", invoke_without_command=True)
app.callback(invoke_without_command=True)(sync)
