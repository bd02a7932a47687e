"""``python -m whoop_simulator --host 127.0.0.1 --port N [--users N --seed S --days D ...]``.

Flags override ``WDP_SIM_*`` environment settings, which override the defaults.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

import uvicorn

from shared.logging import configure_logging
from whoop_simulator.app import create_app
from whoop_simulator.config import SimulatorConfig


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    """Merge CLI flags over env settings."""
    overrides: dict[str, Any] = {}
    for flag, field in (
        ("users", "n_users"),
        ("seed", "seed"),
        ("days", "history_days"),
        ("future_days", "future_days"),
        ("mode", "mode"),
        ("speed", "speed"),
        ("client_id", "client_id"),
        ("client_secret", "client_secret"),
        ("admin_token", "admin_token"),
        ("webhook_url", "webhook_url"),
        ("token_ttl", "token_ttl_s"),
        ("rate_per_minute", "rate_limit_per_minute"),
        ("rate_per_day", "rate_limit_per_day"),
    ):
        value = getattr(args, flag)
        if value is not None:
            overrides[field] = value
    if args.now:
        overrides["now"] = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
    if args.auto_approve:
        overrides["auto_approve"] = True
    if args.retry_schedule:
        overrides["webhook_retry_schedule_s"] = [float(x) for x in args.retry_schedule.split(",")]
    return SimulatorConfig(**overrides)


def parser() -> argparse.ArgumentParser:
    """The command-line flags."""
    p = argparse.ArgumentParser(prog="whoop_simulator", description="WHOOP API v2 simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--users", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--days", type=int, help="days of history before now")
    p.add_argument("--future-days", dest="future_days", type=int)
    p.add_argument("--now", help="simulated start instant, ISO-8601 (default: wall clock)")
    p.add_argument("--mode", choices=["static", "live"])
    p.add_argument("--speed", type=float, help="live mode: simulated seconds per real second")
    p.add_argument("--client-id", dest="client_id")
    p.add_argument("--client-secret", dest="client_secret")
    p.add_argument("--admin-token", dest="admin_token")
    p.add_argument("--webhook-url", dest="webhook_url")
    p.add_argument("--token-ttl", dest="token_ttl", type=int)
    p.add_argument("--rate-per-minute", dest="rate_per_minute", type=int)
    p.add_argument("--rate-per-day", dest="rate_per_day", type=int)
    p.add_argument("--retry-schedule", dest="retry_schedule", help="comma-separated seconds")
    p.add_argument("--auto-approve", dest="auto_approve", action="store_true")
    p.add_argument("--log-level", dest="log_level", default="INFO")
    return p


def main(argv: list[str] | None = None) -> None:
    """Parse flags, build the app and serve it with uvicorn."""
    args = parser().parse_args(argv)
    configure_logging("whoop_simulator", args.log_level)
    app = create_app(build_config(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower())


if __name__ == "__main__":
    main()
