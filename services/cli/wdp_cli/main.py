"""``wdp``: the one entry point for people. Each area registers its sub-commands here."""

from __future__ import annotations

import typer

from wdp_cli.commands import dlq

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
