"""``wdp sim``: run the WHOOP API v2 simulator or write synthetic data with its ground truth."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="WHOOP API v2 simulator and synthetic data generator.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="TCP port (the platform's default base URLs use 8765).")
    ] = 8765,
    users: Annotated[int, typer.Option(help="Number of simulated members.")] = 3,
    seed: Annotated[int, typer.Option(help="Generator seed; same seed, same data.")] = 42,
    days: Annotated[int, typer.Option(help="Days of history before now.")] = 60,
    mode: Annotated[
        str, typer.Option(help="'static' (time moves only via admin) or 'live'.")
    ] = "static",
    speed: Annotated[
        float, typer.Option(help="Live mode: simulated seconds per real second.")
    ] = 60.0,
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="WDP_SIM_CLIENT_SECRET", help="App client secret (dev default if unset)."
        ),
    ] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Webhook URL to register at start.")
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option(help="Skip the consent page when ?user_id= is set.")
    ] = False,
) -> None:
    """Serve the simulator (OAuth, /developer/v2 data API, webhooks, /admin)."""
    import uvicorn

    from shared.logging import configure_logging
    from whoop_simulator.app import create_app
    from whoop_simulator.config import SimulatorConfig

    overrides: dict[str, Any] = {
        "n_users": users,
        "seed": seed,
        "history_days": days,
        "mode": mode,
        "speed": speed,
        "webhook_url": webhook_url,
        "auto_approve": auto_approve,
    }
    if client_secret:
        overrides["client_secret"] = client_secret
    configure_logging("whoop_simulator")
    config = SimulatorConfig(**overrides)
    typer.echo(f"WHOOP simulator on http://{host}:{port} ({users} users, seed {seed})")
    uvicorn.run(create_app(config), host=host, port=port)


def _default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Output directory (created).")],
    users: Annotated[int, typer.Option(help="Number of simulated members.")] = 3,
    years: Annotated[float, typer.Option(help="Years of history per member.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Generator seed; same seed, same data.")] = 42,
    end: Annotated[
        str | None, typer.Option(help="Last wake day YYYY-MM-DD (default: yesterday).")
    ] = None,
    corrupt_rate: Annotated[
        float, typer.Option(help="Share of records served out of range.")
    ] = 0.0,
) -> None:
    """Write each member's v2 records as NDJSON plus the expected gold tables and events."""
    from whoop_simulator import ground_truth
    from whoop_simulator.corruption import maybe_corrupt
    from whoop_simulator.generator import RESOURCES, iter_users

    days = max(1, int(round(years * 365)))
    last = date.fromisoformat(end) if end else datetime.now(UTC).date() - timedelta(days=1)
    start = last - timedelta(days=days - 1)
    out.mkdir(parents=True, exist_ok=True)
    for user in iter_users(seed, users, start, days):
        folder = out / f"user_id={user.user_id}"
        folder.mkdir(exist_ok=True)
        for resource in RESOURCES:
            with (folder / f"{resource}.ndjson").open("w", encoding="utf-8") as fh:
                for rec in user.records(resource):
                    key = str(rec["cycle_id"] if resource == "recovery" else rec["id"])
                    served = maybe_corrupt(rec, resource, key, seed, corrupt_rate)
                    fh.write(json.dumps(served, separators=(",", ":")) + "\n")
        (folder / "profile.json").write_text(json.dumps(user.profile) + "\n")
        if user.body is not None:
            (folder / "body_measurement.json").write_text(json.dumps(user.body) + "\n")
        truth = {
            "gold": ground_truth.expected_gold(user, corrupt_rate=corrupt_rate),
            "anomaly_days": ground_truth.anomaly_days(user),
            "events": ground_truth.events(user),
        }
        (folder / "ground_truth.json").write_text(json.dumps(truth, default=_default) + "\n")
        typer.echo(f"user {user.user_id}: {len(user.cycles)} cycles -> {folder}")
