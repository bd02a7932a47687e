"""``wdp dlq``: browse and replay dead-lettered messages on LocalBus or Service Bus.

The bus comes from ``shared.composition.build_bus`` with the usual settings, so the same
command works on a laptop (``WDP_PROFILE=local``) and against Azure (``WDP_PROFILE=azure``).
Replay re-sends the original body, ``message_id`` and application properties (including
``traceparent``), so a replayed message continues its original trace; consumers are idempotent,
so a replay that reaches every subscription of the topic is safe.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from shared.composition import build_bus
from shared.contracts import SUBSCRIPTIONS
from shared.ports.bus import DeadLetter, MessageBus
from shared.settings import PlatformSettings

app = typer.Typer(
    help="Dead-letter queues: list, show and replay dead-lettered messages.",
    no_args_is_help=True,
)
console = Console()
T = TypeVar("T")

TopicOption = Annotated[
    str | None,
    typer.Option("--topic", "-t", help="Only this topic (default: every declared subscription)"),
]
SubscriptionOption = Annotated[
    str | None,
    typer.Option("--subscription", "-s", help="Only this subscription (default: all of them)"),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="WDP_DATA_DIR of the local stack (default: env or .wdp)"),
]


def _targets(topic: str | None, subscription: str | None) -> list[tuple[str, str]]:
    """Declared subscriptions matching the filters; an explicit pair is always allowed."""
    if topic and subscription:
        return [(topic, subscription)]
    pairs = [
        (s.topic.value, s.name)
        for s in SUBSCRIPTIONS
        if (topic is None or s.topic.value == topic)
        and (subscription is None or s.name == subscription)
    ]
    if not pairs:
        raise typer.BadParameter(
            f"no declared subscription matches topic={topic!r} subscription={subscription!r}"
        )
    return pairs


def _with_bus(data_dir: Path | None, work: Callable[[MessageBus], Awaitable[T]]) -> T:
    async def run() -> T:
        overrides: dict[str, Any] = {} if data_dir is None else {"data_dir": data_dir}
        bus = build_bus(PlatformSettings(**overrides))
        try:
            return await work(bus)
        finally:
            await bus.close()

    return asyncio.run(run())


async def _collect(
    bus: MessageBus, targets: Sequence[tuple[str, str]], max_messages: int
) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for topic, sub in targets:
        letters += await bus.list_dead_letters(topic, sub, max_messages=max_messages)
    return letters


def _as_json(letter: DeadLetter, *, body: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "topic": letter.topic,
        "subscription": letter.subscription,
        "message_id": letter.message_id,
        "reason": letter.reason,
        "description": letter.description,
        "delivery_count": letter.delivery_count,
        "enqueued_time": letter.enqueued_time.isoformat(),
        "sequence_number": letter.sequence_number,
        "application_properties": letter.application_properties,
    }
    if body:
        try:
            out["body"] = json.loads(letter.body)
        except ValueError:
            out["body"] = letter.body.decode("utf-8", errors="replace")
    return out


@app.command("list")
def list_(
    topic: TopicOption = None,
    subscription: SubscriptionOption = None,
    max_messages: Annotated[int, typer.Option("--max", help="Per subscription", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """List dead letters (browsing only: nothing is removed or locked)."""
    targets = _targets(topic, subscription)
    letters = _with_bus(data_dir, lambda bus: _collect(bus, targets, max_messages))
    if as_json:
        for letter in letters:
            typer.echo(json.dumps(_as_json(letter, body=False), default=str))
        return
    if not letters:
        console.print(f"no dead letters in {len(targets)} subscription(s)")
        return
    table = Table(title=f"{len(letters)} dead letter(s)")
    for column in ("topic", "subscription", "message id", "reason", "deliveries", "enqueued"):
        table.add_column(column)
    for d in letters:
        table.add_row(
            d.topic,
            d.subscription,
            d.message_id,
            d.reason or "",
            str(d.delivery_count),
            d.enqueued_time.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)


@app.command()
def show(
    message_id: Annotated[str, typer.Argument(help="message_id as printed by `wdp dlq list`")],
    topic: TopicOption = None,
    subscription: SubscriptionOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show one dead letter in full: reason, description, properties (trace) and body."""
    targets = _targets(topic, subscription)
    letters = _with_bus(data_dir, lambda bus: _collect(bus, targets, 1000))
    found = [d for d in letters if d.message_id == message_id]
    if not found:
        typer.echo(f"no dead letter with message_id {message_id!r}", err=True)
        raise typer.Exit(code=1)
    for letter in found:
        typer.echo(json.dumps(_as_json(letter, body=True), indent=2, default=str))


@app.command()
def replay(
    message_ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="Replay only this message_id (repeatable)"),
    ] = None,
    replay_all: Annotated[
        bool, typer.Option("--all", help="Replay every dead letter of the chosen subscriptions")
    ] = False,
    topic: TopicOption = None,
    subscription: SubscriptionOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Re-send dead letters to their topic with the original body, id, properties and trace.

    Needs --id (repeatable) or --all, so a bare command never floods the pipeline.
    """
    if not message_ids and not replay_all:
        raise typer.BadParameter("give --id MESSAGE_ID (repeatable) or --all")
    targets = _targets(topic, subscription)
    ids = None if replay_all and not message_ids else list(message_ids or [])

    async def work(bus: MessageBus) -> list[tuple[str, str, int]]:
        done: list[tuple[str, str, int]] = []
        for t, s in targets:
            count = await bus.replay_dead_letters(t, s, message_ids=ids)
            done.append((t, s, count))
        return done

    results = _with_bus(data_dir, work)
    total = sum(count for _, _, count in results)
    for t, s, count in results:
        if count:
            typer.echo(f"replayed {count} message(s) from {t}/{s}")
    typer.echo(f"replayed {total} dead letter(s) in total")
    if ids is not None and total < len(set(ids)):
        typer.echo(f"{len(set(ids)) - total} requested id(s) were not found", err=True)
        raise typer.Exit(code=1)
