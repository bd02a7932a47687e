"""Which dbt build a batch of ``bronze.loaded`` messages needs (pure; no I/O).

The project is small, so correctness wins over cleverness: the first build of a process is the
whole project (seeds, dims, any model changed by a deploy); after that only what descends from
the raw tables that actually received rows (``source:whoop.raw_<resource>+``). A batch older
than the incremental lookback window gets a full refresh, because the incremental facts would
no longer see its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from shared.contracts import BronzeLoaded, Resource
from transformer.runner import BuildRequest
from transformer.settings import TransformerSettings

_KNOWN = frozenset(r.value for r in Resource)
# Keep a safety margin between the batch's age and the dbt lookback window.
_LOOKBACK_MARGIN = timedelta(hours=1)


def loaded_resources(messages: Sequence[BronzeLoaded]) -> list[str]:
    """Resources that received at least one row in these batches, sorted."""
    return sorted(
        {
            resource
            for message in messages
            for resource, rows in message.rows_by_resource.items()
            if rows > 0 and resource in _KNOWN
        }
    )


def plan_build(
    messages: Sequence[BronzeLoaded],
    settings: TransformerSettings,
    *,
    built_once: bool,
    now: datetime,
) -> BuildRequest | None:
    """The build for a batch, or ``None`` when nothing was loaded (all files were duplicates).

    Args:
        built_once: whether this process already ran a successful full build.
        now: current time (aware), to compare with the batches' ``loaded_at``.
    """
    resources = loaded_resources(messages)
    if not resources and built_once:
        return None
    oldest = min(m.loaded_at for m in messages) if messages else now
    stale = now - oldest > timedelta(hours=settings.lookback_hours) - _LOOKBACK_MARGIN
    run_tests = settings.run_unit_tests
    if stale:
        return BuildRequest(full_refresh=True, run_unit_tests=run_tests)
    if not built_once or settings.selection == "all":
        return BuildRequest(run_unit_tests=run_tests)
    return BuildRequest(
        select=tuple(f"source:whoop.raw_{resource}+" for resource in resources),
        run_unit_tests=run_tests,
    )
