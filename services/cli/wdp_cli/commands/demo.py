"""``wdp demo``: stack up → OAuth connect → 90-day backfill → webhooks → predictions → summary.

The flow is a library function, :func:`run_demo`; the ``demo`` command renders its result and
the e2e test calls it with a temp dir and asserts on the same result, so the demo and the test
cannot drift apart.

Every step talks to the platform the way a person or WHOOP would: the OAuth flow goes through
the receiver's ``/auth/whoop/login`` with a cookie jar and the simulator's authorize page; the
webhooks are real signed deliveries the simulator sends after an admin re-score; progress is
observed on the ``observer`` subscription of ``ml.predictions-written`` and in the warehouse.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.contracts import PredictionsWritten, Topic, decode
from shared.contracts.messages import COLLECTION_RESOURCES
from shared.contracts.topics import subscription
from shared.errors import PlatformError
from shared.ports import MessageBus, Warehouse
from shared.settings import PlatformSettings
from wdp_cli.stack import Stack, StackConfig, StackError, forward_signals_as_keyboard_interrupt

log = logging.getLogger(__name__)

BASELINE_MODEL = "baseline_7d_mean"
GOLD_TABLES = ("fact_daily_recovery", "fact_sleep", "fact_strain", "fact_workouts")


class DemoError(PlatformError):
    """A demo step did not complete in time; says which step and what was seen."""


@dataclass
class DemoOptions:
    """Inputs of one demo run."""

    data_dir: Path
    seed: int = 42
    users: int = 3
    history_days: int = 100
    backfill_days: int = 90
    user_index: int = 0
    webhooks: int = 20
    train: bool = True
    keep: bool = False
    step_timeout_s: float = 180.0
    event_timeout_s: float = 60.0
    progress: Callable[[str], None] = field(default=lambda _msg: None)


@dataclass
class EventLatency:
    """One webhook-triggering admin action and when its prediction landed."""

    kind: str
    record_key: str
    gold_day: date
    fired_at: float
    predicted_at: float | None
    trace_id: str | None

    @property
    def latency_s(self) -> float | None:
        """Seconds from the admin call (before WHOOP-side send) to the prediction commit."""
        return None if self.predicted_at is None else self.predicted_at - self.fired_at


@dataclass
class DemoResult:
    """Everything the summary prints and the e2e test asserts."""

    user_id: int
    wall_time_s: float
    backfill_s: float
    layer_counts: dict[str, dict[str, int]]
    events: list[EventLatency]
    trace_id: str | None
    trace_services: list[str]
    gold_matches_truth: dict[str, bool]
    gold_mismatches: dict[str, str]
    days_without_prediction: list[int]
    model_version: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    hops_ms: dict[str, float] = field(default_factory=dict)
    stack: Stack | None = None

    def latencies(self) -> list[float]:
        """Observed webhook → prediction latencies in seconds."""
        return [e.latency_s for e in self.events if e.latency_s is not None]

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile of the latencies (``q`` in 0..100)."""
        values = sorted(self.latencies())
        if not values:
            return None
        rank = max(1, math.ceil(q / 100 * len(values)))
        return values[rank - 1]


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def connect_user(stack: Stack, user_id: int, timeout_s: float = 30.0) -> int:
    """Run the real OAuth authorization-code flow for one simulated user.

    Browser steps: GET receiver login (sets the session cookie, redirects to WHOOP authorize)
    → GET authorize with ``user_id`` (the simulator's non-interactive consent) → redirect to
    the receiver callback with code and state → the receiver exchanges the code.

    Returns:
        The user id the receiver reports as connected.
    """
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        login = client.get(f"{stack.receiver_url}/auth/whoop/login")
        if login.status_code not in (302, 303, 307):
            raise DemoError(f"login did not redirect: {login.status_code} {login.text[:200]}")
        authorize_url = _with_query(login.headers["location"], user_id=str(user_id))
        consent = client.get(authorize_url)
        if consent.status_code not in (302, 303, 307):
            raise DemoError(
                f"authorize did not redirect: {consent.status_code} {consent.text[:200]}"
            )
        callback = client.get(consent.headers["location"])
        if callback.status_code != 200:
            raise DemoError(f"callback failed: {callback.status_code} {callback.text[:300]}")
        return int(callback.json()["user_id"])


class SimulatorAdmin:
    """The simulator's admin API (re-score / delete / advance), authenticated by token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=f"{base_url}/admin", headers={"X-Admin-Token": token}, timeout=30.0
        )

    def rescore(self, user_id: int, resource: str, key: str) -> dict[str, Any]:
        """New version of a record with a later ``updated_at``; the simulator sends a webhook."""
        response = self.client.post(f"/records/{resource}/{user_id}/{key}/rescore")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def users(self) -> list[dict[str, Any]]:
        """Simulated users (id, index, whether they granted access)."""
        response = self.client.get("/users")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def ground_truth(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """What each gold table must contain for the user at the simulator's clock."""
        response = self.client.get(f"/ground-truth/{user_id}")
        response.raise_for_status()
        gold: dict[str, list[dict[str, Any]]] = response.json()["gold"]
        return gold

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def _count(warehouse: Warehouse, sql: str, params: list[Any] | None = None) -> int:
    try:
        rows = warehouse.query(sql, params)
    except Exception:  # the table may not exist yet; counting is best effort while waiting
        return 0
    return int(next(iter(rows[0].values()))) if rows else 0


def layer_counts(
    warehouse: Warehouse, blob_root: Path, container: str
) -> dict[str, dict[str, int]]:
    """Rows per layer: bronze files, raw rows per resource, silver/gold tables, predictions."""
    counts: dict[str, dict[str, int]] = {
        "bronze_files": {},
        "raw_rows": {},
        "silver": {},
        "gold": {},
    }
    bronze = blob_root / container / "bronze" / "whoop"
    for resource in [*COLLECTION_RESOURCES, "profile", "body_measurement"]:
        folder = bronze / str(resource)
        counts["bronze_files"][str(resource)] = (
            sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
        )
        counts["raw_rows"][str(resource)] = _count(
            warehouse, f"select count(*) as n from bronze.raw_{resource}"
        )
    try:
        tables = warehouse.query(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('silver', 'gold', 'main_silver', 'main_gold')"
        )
    except Exception:  # the summary is best effort; a missing table is not an error here
        tables = []
    for row in tables:
        schema = str(row["table_schema"])
        layer = "gold" if schema.endswith("gold") else "silver"
        name = str(row["table_name"])
        counts[layer][name] = _count(warehouse, f'select count(*) as n from {schema}."{name}"')
    counts["quarantine"] = {
        "files": _count(warehouse, "select count(*) as n from bronze.quarantine_files"),
    }
    predictions: dict[str, int] = {}
    try:
        for row in warehouse.query(
            "select model_name, count(*) as n from gold.fact_predictions group by model_name"
        ):
            predictions[str(row["model_name"])] = int(row["n"])
    except Exception:  # the summary is best effort; a missing table is not an error here
        pass
    counts["predictions"] = predictions
    return counts


async def _drain(bus: MessageBus) -> list[tuple[PredictionsWritten, dict[str, Any]]]:
    sub = subscription(Topic.PREDICTIONS_WRITTEN, "observer")
    out: list[tuple[PredictionsWritten, dict[str, Any]]] = []
    while True:
        messages = await bus.receive(sub.topic.value, sub.name, max_messages=50, max_wait_s=0.05)
        if not messages:
            return out
        for msg in messages:
            payload = decode(sub.topic, msg.body, msg.application_properties)
            await bus.complete(msg)
            if isinstance(payload, PredictionsWritten):
                out.append((payload, dict(msg.application_properties)))


def trace_id_of(properties: dict[str, Any]) -> str | None:
    """Trace id from a message's W3C ``traceparent`` property."""
    parent = properties.get("traceparent")
    if not isinstance(parent, str):
        return None
    parts = parent.split("-")
    return parts[1] if len(parts) == 4 else None


def spans_of_trace(spans_file: Path, trace_id: str) -> list[dict[str, Any]]:
    """Every span of one trace from the JSON-lines span file."""
    if not spans_file.exists():
        return []
    out = []
    for line in spans_file.read_text().splitlines():
        try:
            span = json.loads(line)
        except json.JSONDecodeError:
            continue
        if span.get("trace_id") == trace_id:
            out.append(span)
    return out


HOPS = ("receiver", "extractor", "loader", "transformer", "scorer")


def hop_breakdown(spans_file: Path, trace_ids: list[str]) -> dict[str, float]:
    """Median milliseconds per stage over the given traces: where webhook latency goes.

    A stage is a service's consumer span (the receiver's: its request span); the wait between
    the previous stage's end and this one's start is reported as ``→ <service>`` (bus polling,
    and for the transformer its debounce window). It can be negative when a stage starts on
    the first blob while the previous one is still writing the next.
    """
    samples: dict[str, list[float]] = {}
    for trace_id in trace_ids:
        spans = spans_of_trace(spans_file, trace_id)
        previous_end: int | None = None
        for service in HOPS:
            mine = [
                s
                for s in spans
                if s.get("service") == service
                and (s.get("kind") == "CONSUMER" or s.get("parent_span_id") is None)
            ]
            if not mine:
                break
            start = min(int(s["start_ns"]) for s in mine)
            end = max(int(s["end_ns"]) for s in mine)
            if previous_end is not None:
                samples.setdefault(f"→ {service}", []).append((start - previous_end) / 1e6)
            samples.setdefault(service, []).append((end - start) / 1e6)
            previous_end = end
    return {name: statistics.median(values) for name, values in samples.items()}


def compare_gold_with_truth(
    warehouse: Warehouse,
    expected: dict[str, list[dict[str, Any]]],
    user_id: int,
    min_date_key: int = 0,
) -> tuple[dict[str, bool], dict[str, str]]:
    """Per gold table: do the warehouse's rows equal the generator's ground truth?

    Only days ``>= min_date_key`` are compared on both sides (the backfill window's interior:
    its first day depends on whether a record's start fell just inside the window). Compared
    on every column the truth names, floats to 1e-6, timestamps as naive UTC.
    """
    matches: dict[str, bool] = {}
    why: dict[str, str] = {}
    keys = {
        "fact_daily_recovery": "recovery_id",
        "fact_sleep": "sleep_id",
        "fact_strain": "strain_id",
        "fact_workouts": "workout_id",
    }
    for table in GOLD_TABLES:
        truth = [r for r in expected.get(table, []) if int(r["date_key"]) >= min_date_key]
        columns = sorted(truth[0]) if truth else ["user_key", "date_key"]
        key = keys[table]
        rows = warehouse.query(
            f"select {', '.join(columns)} from gold.{table} where user_key = ? and date_key >= ?",
            [user_id, min_date_key],
        )
        got = {str(r[key]): r for r in rows} if truth else {}
        want = {str(r[key]): r for r in truth}
        problem = ""
        if set(got) != set(want):
            missing = sorted(set(want) - set(got))[:3]
            extra = sorted(set(got) - set(want))[:3]
            problem = f"{len(got)} rows vs {len(want)} expected; missing {missing} extra {extra}"
        else:
            for k, expected_row in want.items():
                for column, value in expected_row.items():
                    if not _same(got[k].get(column), value):
                        problem = f"{key}={k} {column}: {got[k].get(column)!r} != {value!r}"
                        break
                if problem:
                    break
        matches[table] = not problem
        if problem:
            why[table] = problem
    return matches, why


def _same(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, float) or isinstance(got, float):
        try:
            return abs(float(got) - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
        except (TypeError, ValueError):
            return False
    if isinstance(got, datetime):
        # The truth arrives as JSON: ISO strings of naive UTC / local datetimes.
        expected = want if isinstance(want, datetime) else datetime.fromisoformat(str(want))
        return got.replace(tzinfo=None) == expected.replace(tzinfo=None)
    if isinstance(want, list | tuple):
        return len(want) == len(list(got)) and all(
            _same(a, b) for a, b in zip(list(got), want, strict=True)
        )
    return bool(got == want) or str(got) == str(want)


def run_demo(options: DemoOptions) -> DemoResult:
    """Run the whole demo; stops the stack unless ``options.keep``.

    Raises:
        DemoError: a step did not finish within its timeout (the message says which).
        StackError: a process died or never became healthy.
    """
    return asyncio.run(_run(options))


async def _run(options: DemoOptions) -> DemoResult:
    from shared.composition import build_bus, build_warehouse

    started = time.monotonic()
    say = options.progress
    sim_now = datetime.now(UTC).replace(microsecond=0)
    config = StackConfig(
        data_dir=options.data_dir,
        simulator_seed=options.seed,
        simulator_users=options.users,
        simulator_days=options.history_days,
        env={
            "WDP_SIM_NOW": sim_now.isoformat(),
            "WDP_SIM_WEBHOOK_RETRY_SCHEDULE_S": "[1, 2, 5, 10]",
            "WDP_RECEIVER_INITIAL_BACKFILL_DAYS": str(options.backfill_days),
            "WDP_EXTRACTOR_INITIAL_BACKFILL_DAYS": str(options.backfill_days),
        },
    )
    stack = Stack(config)
    settings = PlatformSettings(data_dir=stack.data_dir)
    stack.start()
    bus: MessageBus | None = None
    warehouse: Warehouse | None = None
    admin: SimulatorAdmin | None = None
    try:
        say("starting simulator and services")
        await asyncio.to_thread(stack.wait_healthy, options.step_timeout_s)
        phases: dict[str, float] = {"start processes": time.monotonic() - started}
        bus = build_bus(settings)
        await bus.ensure_topology()
        warehouse = build_warehouse(settings)
        admin = SimulatorAdmin(stack.simulator_url, stack.admin_token)
        simulated = await asyncio.to_thread(admin.users)
        user_id = int(next(u["user_id"] for u in simulated if u["index"] == options.user_index))

        say(f"connecting user {user_id} through OAuth")
        backfill_started = time.monotonic()
        connected = await asyncio.to_thread(connect_user, stack, user_id)
        if connected != user_id:
            raise DemoError(f"receiver connected user {connected}, expected {user_id}")

        truth = await asyncio.to_thread(admin.ground_truth, user_id)
        # The interior of the backfill window: two days of margin for records whose start
        # fell just outside it.
        floor = int((sim_now - timedelta(days=options.backfill_days - 2)).strftime("%Y%m%d"))
        expected_recovery = [r for r in truth["fact_daily_recovery"] if r["date_key"] >= floor]

        say(f"backfilling {options.backfill_days} days; waiting for gold and predictions")
        deadline = time.monotonic() + options.step_timeout_s
        wh = warehouse
        while True:
            stack.check_alive()
            gold_days = _count(
                wh,
                "select count(*) as n from gold.fact_daily_recovery "
                "where user_key = ? and date_key >= ?",
                [user_id, floor],
            )
            predicted = _count(
                wh,
                "select count(*) as n from gold.fact_predictions where user_key = ? "
                "and model_name = ? and date_key > ?",
                [user_id, BASELINE_MODEL, floor],
            )
            if gold_days >= len(expected_recovery) > 0 and predicted >= gold_days:
                break
            if time.monotonic() > deadline:
                raise DemoError(
                    f"backfill incomplete after {options.step_timeout_s:.0f} s: "
                    f"{gold_days}/{len(expected_recovery)} recovery days in gold, "
                    f"{predicted} predictions"
                )
            await asyncio.sleep(0.5)
        backfill_s = time.monotonic() - backfill_started
        phases["connect + 90-day backfill → predictions"] = backfill_s
        mark = time.monotonic()
        # Let in-flight stragglers of the backfill settle before comparing with the truth.
        await _quiesce(bus, wh, user_id)

        # Compare with the simulator's ground truth as of now (before our re-scores).
        truth = await asyncio.to_thread(admin.ground_truth, user_id)
        matches, mismatches = compare_gold_with_truth(wh, truth, user_id, floor)
        missing = _days_without_prediction(wh, user_id)

        phases["settle + compare with ground truth"] = time.monotonic() - mark
        mark = time.monotonic()
        model_version = None
        if options.train:
            say("training the ridge model on the backfilled gold (wdp ml train)")
            model_version = await _train(settings, wh)
            phases["train model"] = time.monotonic() - mark
            mark = time.monotonic()

        say(f"firing {options.webhooks} webhooks (re-scored recoveries) and timing predictions")
        await _drain(bus)
        recent = wh.query(
            "select cycle_id, date_key from gold.fact_daily_recovery where user_key = ? "
            "order by date_key desc limit ?",
            [user_id, options.webhooks],
        )
        events: list[EventLatency] = []
        for row in recent:
            day = date(
                row["date_key"] // 10000, row["date_key"] // 100 % 100, row["date_key"] % 100
            )
            event = EventLatency(
                "recovery.updated", str(row["cycle_id"]), day, time.time(), None, None
            )
            await asyncio.to_thread(admin.rescore, user_id, "recovery", event.record_key)
            events.append(event)
            await _await_prediction(bus, stack, event, user_id, options.event_timeout_s)
        phases[f"{len(events)} webhooks, one at a time"] = time.monotonic() - mark
        trace_id = next((e.trace_id for e in reversed(events) if e.trace_id), None)
        services: list[str] = []
        if trace_id is not None:
            services = sorted(
                {str(s.get("service")) for s in spans_of_trace(stack.spans_file, trace_id)}
            )
        counts = layer_counts(wh, settings.blob_root, settings.blob_container)
        return DemoResult(
            user_id=user_id,
            wall_time_s=time.monotonic() - started,
            backfill_s=backfill_s,
            layer_counts=counts,
            events=events,
            trace_id=trace_id,
            trace_services=services,
            gold_matches_truth=matches,
            gold_mismatches=mismatches,
            days_without_prediction=missing,
            model_version=model_version,
            phases=phases,
            hops_ms=hop_breakdown(stack.spans_file, [e.trace_id for e in events if e.trace_id]),
            stack=stack if options.keep else None,
        )
    finally:
        if admin is not None:
            admin.close()
        if warehouse is not None:
            warehouse.close()
        if bus is not None:
            await bus.close()
        if not options.keep:
            await asyncio.to_thread(stack.stop)


async def _train(settings: PlatformSettings, warehouse: Warehouse) -> str:
    """Fit the model on gold and save it where the running scorer looks for new versions."""
    from ml.data import read_gold
    from ml.features import build_daily, build_features
    from ml.predict import save_model
    from ml.train import train
    from shared.composition import build_blob_store

    gold = await asyncio.to_thread(read_gold, warehouse)
    features = build_features(build_daily(gold.recovery, gold.sleep, gold.strain, gold.workouts))
    model = train(features)
    blobs = build_blob_store(settings, bus=None)
    try:
        await save_model(blobs, model)
    finally:
        await blobs.close()
    return model.version


async def _quiesce(bus: MessageBus, warehouse: Warehouse, user_id: int) -> None:
    """Wait until predictions stop changing for a second (backfill pages land in bursts)."""
    last = -1
    stable_since = time.monotonic()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await _drain(bus)
        rows = warehouse.query(
            "select count(*) as n, max(scored_at) as t from gold.fact_predictions "
            "where user_key = ?",
            [user_id],
        )
        signature = hash((rows[0]["n"], str(rows[0]["t"]))) if rows else 0
        if signature != last:
            last = signature
            stable_since = time.monotonic()
        elif time.monotonic() - stable_since >= 3.0:
            return
        await asyncio.sleep(0.25)


def _days_without_prediction(warehouse: Warehouse, user_id: int) -> list[int]:
    """Gold recovery days D with no baseline prediction for D+1 (should be empty)."""
    rows = warehouse.query(
        "select date_key from gold.fact_daily_recovery where user_key = ?", [user_id]
    )
    predicted = {
        int(r["date_key"])
        for r in warehouse.query(
            "select date_key from gold.fact_predictions where user_key = ? and model_name = ?",
            [user_id, BASELINE_MODEL],
        )
    }
    missing = []
    for row in rows:
        key = int(row["date_key"])
        day = date(key // 10000, key // 100 % 100, key % 100) + timedelta(days=1)
        if int(day.strftime("%Y%m%d")) not in predicted:
            missing.append(key)
    return sorted(missing)


def _started_by_webhook(spans_file: Path, trace_id: str, not_before: float) -> bool:
    """Whether the trace's root is a receiver webhook request that began after ``not_before``.

    This ties a PredictionsWritten to *this* webhook: a rescore triggered by something else
    (a new model version, a reconciliation) also covers the day but carries another trace.
    """
    for span in spans_of_trace(spans_file, trace_id):
        if (
            span.get("service") == "receiver"
            and span.get("parent_span_id") is None
            and int(span.get("start_ns") or 0) / 1e9 >= not_before
        ):
            return True
    return False


async def _await_prediction(
    bus: MessageBus, stack: Stack, event: EventLatency, user_id: int, timeout_s: float
) -> None:
    """Wait for the PredictionsWritten of the event's trace that covers its target day (D+1)."""
    target = event.gold_day + timedelta(days=1)
    deadline = time.monotonic() + timeout_s
    sub = subscription(Topic.PREDICTIONS_WRITTEN, "observer")
    while time.monotonic() < deadline:
        stack.check_alive()
        messages = await bus.receive(sub.topic.value, sub.name, max_messages=20, max_wait_s=0.2)
        for msg in messages:
            payload = decode(sub.topic, msg.body, msg.application_properties)
            await bus.complete(msg)
            if not (
                isinstance(payload, PredictionsWritten)
                and payload.user_id == user_id
                and payload.model_name == BASELINE_MODEL
                and target in payload.dates
                and event.predicted_at is None
            ):
                continue
            trace_id = trace_id_of(dict(msg.application_properties))
            if trace_id is not None and _started_by_webhook(
                stack.spans_file, trace_id, event.fired_at
            ):
                event.predicted_at = payload.finished_at.timestamp()
                event.trace_id = trace_id
        if event.predicted_at is not None:
            return
    log.warning(
        "no prediction for event within timeout",
        extra={"record": event.record_key, "day": event.gold_day.isoformat()},
    )


# ---------------------------------------------------------------------- the command
def render(result: DemoResult, console: Console) -> None:
    """Print the demo summary: rows per layer, latency, the trace, truth checks, wall time."""
    layers = Table(title="Rows per layer", show_lines=False)
    layers.add_column("layer")
    layers.add_column("table / resource")
    layers.add_column("rows", justify="right")
    for layer in ("bronze_files", "raw_rows", "silver", "gold", "quarantine", "predictions"):
        for name, count in sorted(result.layer_counts.get(layer, {}).items()):
            layers.add_row(layer.replace("_", " "), name, f"{count:,}")
    console.print(layers)

    p50, p95 = result.percentile(50), result.percentile(95)
    latencies = Table(title=f"Webhook → prediction latency ({len(result.events)} events)")
    latencies.add_column("#", justify="right")
    latencies.add_column("event")
    latencies.add_column("gold day")
    latencies.add_column("latency (s)", justify="right")
    for i, event in enumerate(result.events, start=1):
        latency = event.latency_s
        latencies.add_row(
            str(i),
            event.kind,
            event.gold_day.isoformat(),
            f"{latency:.2f}" if latency is not None else "[red]timeout[/]",
        )
    console.print(latencies)
    console.print(
        f"p50 [bold]{p50:.2f} s[/]  p95 [bold]{p95:.2f} s[/]"
        if p50 is not None and p95 is not None
        else "[red]no prediction was observed for any webhook[/]"
    )
    if result.hops_ms:
        hops = ", ".join(f"{name} {ms:.0f}" for name, ms in result.hops_ms.items())
        console.print(f"where it goes (median ms): {hops}")
    console.print(
        f"trace [bold]{result.trace_id}[/] spans services: {', '.join(result.trace_services)}"
    )
    if result.model_version:
        console.print(f"model ridge_recovery version {result.model_version} trained on gold")
    truth = ", ".join(
        f"{t} {'[green]=[/]' if ok else '[red]≠[/]'}" for t, ok in result.gold_matches_truth.items()
    )
    console.print(f"gold vs simulator ground truth (user {result.user_id}): {truth}")
    for table, why in result.gold_mismatches.items():
        console.print(f"  [red]{table}[/]: {why}")
    if result.days_without_prediction:
        console.print(f"[red]days without a prediction:[/] {result.days_without_prediction[:10]}")
    phases = "; ".join(f"{name} {seconds:.1f} s" for name, seconds in result.phases.items())
    console.print(f"phases: {phases}")
    console.print(f"wall time [bold]{result.wall_time_s:.1f} s[/]")


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data dir for this run (default: a fresh .wdp/demo-<timestamp>)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 42,
    users: Annotated[int, typer.Option(help="Simulated users")] = 3,
    days: Annotated[int, typer.Option(help="Backfill days (history is this + 10)")] = 90,
    webhooks: Annotated[int, typer.Option(help="Webhooks to fire after the backfill")] = 20,
    train: Annotated[
        bool, typer.Option(help="Train the ridge model after the backfill (the scorer loads it)")
    ] = True,
    keep: Annotated[bool, typer.Option(help="Leave the stack running after the summary")] = False,
) -> None:
    """Run the platform end to end on the simulator and print a summary.

    Starts the simulator and the five services, connects one user through the real OAuth
    flow, backfills, fires signed webhooks, waits for their predictions, then prints rows per
    layer, webhook → prediction latency p50/p95, one trace id and the wall time. --keep leaves
    the stack running (Ctrl-C stops it); Ctrl-C at any point stops every process.
    """
    console = Console()
    target = data_dir or Path(".wdp") / f"demo-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    options = DemoOptions(
        data_dir=target,
        seed=seed,
        users=users,
        history_days=days + 10,
        backfill_days=days,
        webhooks=webhooks,
        train=train,
        keep=keep,
        progress=lambda msg: console.print(f"[cyan]»[/] {msg}"),
    )
    with forward_signals_as_keyboard_interrupt():
        try:
            result = run_demo(options)
        except KeyboardInterrupt:
            console.print("interrupted; every process was stopped")
            raise typer.Exit(130) from None
        except (DemoError, StackError) as exc:
            console.print(f"[red]demo failed:[/] {exc}")
            console.print(f"logs: {target / 'logs'}")
            raise typer.Exit(1) from exc
        render(result, console)
        if keep and result.stack is not None:
            stack = result.stack
            console.print(
                f"stack kept running: receiver {stack.receiver_url}, simulator "
                f"{stack.simulator_url}, data {stack.data_dir}. Ctrl-C stops it."
            )
            try:
                while True:
                    stack.check_alive()
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
            finally:
                stack.stop()
