"""``wdp backfill``: pull a user's full WHOOP history into bronze, resumably, in-process.

Runs the extractor's own windowed sync (``extractor.handlers.Extractor.sync``) directly with
adapters from ``shared.composition`` — no running extractor needed, and blobs still emit
BlobCreated so a running loader picks them up. History is split per resource into windows
(``WDP_EXTRACTOR_BACKFILL_WINDOW_DAYS``); each finished page checkpoints its cursor in the
state DB, so after ``kill -9`` the same command resumes without refetching finished pages.
The rate limiter is the app-wide one, so a backfill never starves or overruns running services.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shared.contracts import Resource, SyncReason
from shared.contracts.messages import COLLECTION_RESOURCES
from shared.errors import PlatformError
from shared.settings import PlatformSettings

console = Console()


def _day(value: date) -> datetime:
    return datetime.combine(value, time(0), tzinfo=UTC)


async def _run(
    user_id: int,
    since: date,
    until: date | None,
    resources: list[Resource],
    data_dir: Path | None,
) -> None:
    from extractor.bootstrap import bootstrap
    from extractor.handlers import backfill_job_id

    platform = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
    start = _day(since)
    end = _day(until) if until else _day(datetime.now(UTC).date() + timedelta(days=1))
    app = await bootstrap(platform=platform)
    job_id = backfill_job_id(user_id, start, end)
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(f"backfill user {user_id}", total=None)

            def on_window(resource: str, done: int, total: int) -> None:
                progress.update(
                    task, completed=done, total=total, description=f"user {user_id} · {resource}"
                )

            result = await app.extractor.sync(
                user_id,
                start,
                end,
                job_id=job_id,
                resources=resources,
                reason=SyncReason.BACKFILL,
                progress=on_window,
            )
    finally:
        await app.close()
    console.print(
        f"job [bold]{job_id}[/]: {result.pages} pages, {result.records} records, "
        f"{len(result.blobs)} blobs; {result.windows_skipped}/{result.windows_total} windows "
        f"were already done (resumed); {app.extractor.client.stats.requests} WHOOP requests"
    )


def backfill(
    user: Annotated[int, typer.Option("--user", help="WHOOP user id (must be connected)")],
    since: Annotated[
        datetime, typer.Option("--since", formats=["%Y-%m-%d"], help="first UTC day to fetch")
    ],
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until", formats=["%Y-%m-%d"], help="stop before this UTC day (default: tomorrow)"
        ),
    ] = None,
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
    """Backfill a user's history into bronze with a progress bar; rerun to resume."""
    try:
        asyncio.run(
            _run(
                user,
                since.date(),
                until.date() if until else None,
                list(resource or COLLECTION_RESOURCES),
                data_dir,
            )
        )
    except PlatformError as exc:  # unknown user, needs re-auth, WHOOP down: say it plainly
        console.print(f"[red]backfill stopped:[/] {exc}")
        console.print("rerun the same command to resume from the last finished page")
        raise typer.Exit(1) from exc


app = typer.Typer(
    help="Backfill a user's WHOOP history (resumable after a crash).",
    invoke_without_command=True,
)
app.callback(invoke_without_command=True)(backfill)
