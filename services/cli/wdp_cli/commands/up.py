"""``wdp up``: run the local stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from wdp_cli.stack import (
    SERVICES,
    Stack,
    StackConfig,
    StackError,
    forward_signals_as_keyboard_interrupt,
    stack_environment_from,
)

console = Console()


def up(
    data_dir: Annotated[Path, typer.Option(help="WDP_DATA_DIR shared by every process")] = Path(
        ".wdp"
    ),
    simulator: Annotated[
        bool, typer.Option(help="Also start the WHOOP simulator and point the services at it")
    ] = True,
    seed: Annotated[int, typer.Option(help="Simulator generator seed")] = 42,
    users: Annotated[int, typer.Option(help="Simulated users")] = 3,
    days: Annotated[int, typer.Option(help="Days of simulated history per user")] = 120,
    receiver_port: Annotated[int, typer.Option(help="Receiver port (0: pick a free one)")] = 0,
    simulator_port: Annotated[int, typer.Option(help="Simulator port (0: pick a free one)")] = 0,
    only: Annotated[
        list[str] | None,
        typer.Option(help=f"Start only these services (repeatable; any of {', '.join(SERVICES)})"),
    ] = None,
    health_timeout: Annotated[float, typer.Option(help="Seconds to wait for health")] = 120.0,
    env_file: Annotated[
        Path, typer.Option(help="KEY=VALUE file of WDP_* settings (the environment wins)")
    ] = Path(".env"),
) -> None:
    """Start the simulator (optional) and the five services as separate processes.

    Every WDP_* setting from the environment and the .env file reaches every process (e.g.
    your WHOOP app's WDP_WHOOP_CLIENT_ID/SECRET and URLs with --no-simulator). A crashed
    service is restarted with exponential backoff while the others keep running. Logs go to
    <data-dir>/logs/<service>.log, heartbeats and restart counts to <data-dir>/health. Ctrl-C
    or SIGTERM stops every process: SIGTERM first, SIGKILL after a timeout.
    """
    services = tuple(only) if only else SERVICES
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        raise typer.BadParameter(f"unknown services: {', '.join(unknown)}", param_hint="--only")
    config = StackConfig(
        data_dir=data_dir,
        with_simulator=simulator,
        simulator_seed=seed,
        simulator_users=users,
        simulator_days=days,
        services=services,
        receiver_port=receiver_port,
        simulator_port=simulator_port,
        env=stack_environment_from(os.environ, env_file),
    )
    if not simulator and "WDP_WHOOP_CLIENT_ID" not in config.env:
        raise typer.BadParameter(
            "--no-simulator needs your WHOOP app: set WDP_WHOOP_CLIENT_ID, "
            "WDP_WHOOP_CLIENT_SECRET, WDP_WHOOP_API_BASE_URL and WDP_WHOOP_OAUTH_BASE_URL "
            "(environment or .env; see the README)",
            param_hint="--no-simulator",
        )
    stack = Stack(config)
    with forward_signals_as_keyboard_interrupt():
        try:
            stack.start()
            with console.status("waiting for every process to report healthy..."):
                stack.wait_healthy(health_timeout)
            console.print(f"[green]stack up[/] (data dir {stack.data_dir})")
            if "receiver" in services:
                console.print(f"  receiver   {stack.receiver_url}  (connect: /auth/whoop/login)")
            if simulator:
                console.print(f"  simulator  {stack.simulator_url}")
            console.print(f"  logs       {stack.log_dir}")
            key_file = stack.write_admin_key()
            if key_file is not None:
                console.print(f"  admin key  in {key_file} (X-API-Key for the REST API)")
            console.print("Ctrl-C stops everything.")
            while True:
                for name in stack.supervise():
                    console.print(f"[yellow]restarted {name}[/] ({stack.restarts[name]} so far)")
                time.sleep(0.5)
        except KeyboardInterrupt:
            console.print("stopping...")
        except StackError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
        finally:
            codes = stack.stop()
            console.print("stopped: " + ", ".join(f"{n}={c}" for n, c in codes.items()))
