"""``wdp``: the one entry point for people. Each area registers its sub-commands here."""

from __future__ import annotations

import typer

from wdp_cli.commands import backfill, dlq, sim, sync
from wdp_cli.commands import config as config_cmd
from wdp_cli.commands import dashboard as dashboard_cmd
from wdp_cli.commands import demo as demo_cmd
from wdp_cli.commands import ml as ml_cmd
from wdp_cli.commands import status as status_cmd
from wdp_cli.commands import up as up_cmd
from wdp_cli.commands import warehouse as warehouse_cmd

app = typer.Typer(
    name="wdp",
    help="WHOOP Data Platform: run the pipeline, the simulator and operations tasks.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """WHOOP Data Platform command line."""


# Area sub-commands register below (one line each).
app.add_typer(dlq.app, name="dlq")
app.add_typer(sim.app, name="sim")
app.command(name="up")(up_cmd.up)
app.command(name="status")(status_cmd.status)
app.command(name="demo")(demo_cmd.demo)
app.add_typer(ml_cmd.app, name="ml")
app.add_typer(backfill.app, name="backfill")
app.add_typer(sync.app, name="sync")
app.command(name="config")(config_cmd.config)
app.add_typer(dashboard_cmd.app, name="dashboard")
app.add_typer(warehouse_cmd.app, name="warehouse")
