"""``wdp ml``: train the recovery model on gold and evaluate it against naive baselines."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Train and evaluate the next-day recovery model.", no_args_is_help=True)
console = Console()
DataDirOption = Annotated[Path | None, typer.Option(help="WDP_DATA_DIR (default: settings)")]

if TYPE_CHECKING:
    import pandas as pd

    from ml.evaluate import EvaluationReport
    from shared.settings import PlatformSettings


def _settings(data_dir: Path | None) -> PlatformSettings:
    from shared.settings import PlatformSettings

    return PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()


def _features(data_dir: Path | None) -> pd.DataFrame:
    """Gold of every user → feature frame (lazy imports keep ``wdp --help`` fast)."""
    from ml.data import read_gold
    from ml.features import build_daily, build_features
    from shared.composition import build_warehouse

    warehouse = build_warehouse(_settings(data_dir))
    try:
        gold = read_gold(warehouse)
    finally:
        warehouse.close()
    return build_features(build_daily(gold.recovery, gold.sleep, gold.strain, gold.workouts))


def _simulated_features(users: int, days: int, seed: int) -> pd.DataFrame:
    """Ground-truth gold of the generator's users → feature frame (no warehouse needed)."""
    from datetime import date

    import pandas as pd

    from ml.features import build_daily, build_features
    from whoop_simulator.generator import iter_users
    from whoop_simulator.ground_truth import expected_gold

    tables = ("fact_daily_recovery", "fact_sleep", "fact_strain", "fact_workouts")
    rows: dict[str, list[dict[str, object]]] = {t: [] for t in tables}
    start = date(2024, 1, 1)
    for user in iter_users(seed, users, start, days):
        gold = expected_gold(user)
        for table in tables:
            rows[table] += gold[table]
    frames = [pd.DataFrame(rows[t]) for t in tables]
    return build_features(build_daily(*frames))


@app.command()
def train(
    data_dir: DataDirOption = None,
    alpha: Annotated[float, typer.Option(help="Ridge regularisation strength")] = 10.0,
) -> None:
    """Fit the ridge model on all users' gold and save it as a new version in the BlobStore.

    The scorer picks the new version up within WDP_SCORER_ARTEFACT_REFRESH_S.
    """
    from ml.predict import save_model
    from ml.train import train as fit
    from shared.composition import build_blob_store

    features = _features(data_dir)
    model = fit(features, alpha=alpha)
    blobs = build_blob_store(_settings(data_dir), bus=None)

    async def save() -> str:
        try:
            return await save_model(blobs, model)
        finally:
            await blobs.close()

    path = asyncio.run(save())
    console.print(f"[green]saved[/] {model.name} version {model.version} → {path}")
    console.print_json(json.dumps(model.metrics, default=str))


@app.command()
def evaluate(
    data_dir: DataDirOption = None,
    output: Annotated[
        Path | None,
        typer.Option(help="JSON report path (default: <data_dir>/reports/ml_evaluation.json)"),
    ] = None,
    min_train_days: Annotated[int, typer.Option(help="History before the first origin")] = 56,
    refit_days: Annotated[int, typer.Option(help="Refit every N days (rolling origin)")] = 7,
    simulated_users: Annotated[
        int,
        typer.Option(
            help="Evaluate on N users of the simulator's generator (ground-truth gold) instead "
            "of the warehouse; reproduces docs/ml.md"
        ),
    ] = 0,
    simulated_days: Annotated[int, typer.Option(help="Days per simulated user")] = 365,
    seed: Annotated[int, typer.Option(help="Generator seed for --simulated-users")] = 42,
) -> None:
    """Rolling-origin evaluation on gold: MAE of the model and of the naive baselines.

    Persistence, 7-day mean and 28-day mean are scored on exactly the same predictions as the
    model, with 80 % interval coverage for the model and the 7-day-mean baseline.
    """
    from ml.evaluate import evaluate as run_evaluation

    if simulated_users > 0:
        features = _simulated_features(simulated_users, simulated_days, seed)
    else:
        features = _features(data_dir)
    report = run_evaluation(features, min_train_days=min_train_days, refit_every_days=refit_days)
    render_report(report)
    target = output or (_settings(data_dir).data_dir / "reports" / "ml_evaluation.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report.to_dict(), indent=2))
    console.print(f"report written to {target}")


def render_report(report: EvaluationReport) -> None:
    """Print an :class:`ml.evaluate.EvaluationReport` as a table."""
    table = Table(
        title=f"Next-day recovery, rolling origin ({report.origins} weekly refits, "
        f"{report.users} users, {report.first_target_day} → {report.last_target_day})"
    )
    table.add_column("predictor")
    table.add_column("MAE", justify="right")
    table.add_column("n", justify="right")
    table.add_column("80 % coverage", justify="right")
    table.add_column("mean width", justify="right")
    for score in sorted(report.scores, key=lambda s: s.mae):
        table.add_row(
            score.name,
            f"{score.mae:.2f}",
            str(score.n),
            f"{score.coverage_80:.1%}" if score.coverage_80 is not None else "–",
            f"{score.mean_interval_width:.1f}" if score.mean_interval_width is not None else "–",
        )
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
