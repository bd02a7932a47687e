"""``wdp config``: print the configuration reference generated from the settings classes."""

from __future__ import annotations

import typer

from wdp_cli.config_docs import settings_markdown


def config() -> None:
    """Print every setting of every service (env var, default, Azure value, meaning)."""
    typer.echo(settings_markdown(), nl=False)
