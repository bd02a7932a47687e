"""Transformer errors: a failed dbt build, transient until the bus gives up on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.errors import TerminalError, TransientError


@dataclass(frozen=True)
class NodeFailure:
    """One dbt node that errored or failed (model, test, seed, unit test).

    For a data test dbt also reports how many rows failed and the SQL it ran; the transformer
    re-runs that SQL with a limit to record a sample of the failing keys.
    """

    unique_id: str
    status: str
    message: str
    failing_rows: int | None = None
    compiled_sql: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_data_test(self) -> bool:
        """A data test (``test.<project>.<name>...``), not a model, seed or unit test."""
        return self.unique_id.startswith("test.")

    @property
    def test_name(self) -> str:
        """The node's name: the third part of its unique id (generic tests add a hash)."""
        parts = self.unique_id.split(".")
        return parts[2] if len(parts) > 2 else self.unique_id

    def __str__(self) -> str:
        return f"{self.unique_id} [{self.status}]: {self.message}"


def _describe(failures: Sequence[NodeFailure], error: str | None) -> str:
    parts = [str(f) for f in failures]
    if error:
        parts.insert(0, error)
    return "; ".join(parts) or "dbt reported failure without details"


class DbtBuildFailed(TransientError):
    """dbt build failed; the message is abandoned and retried (a lock, a flaky warehouse).

    Carries the failing nodes so logs and the dead-letter description name them.
    """

    def __init__(self, failures: Sequence[NodeFailure], error: str | None = None) -> None:
        self.failures = tuple(failures)
        self.error = error
        super().__init__(
            f"dbt build failed: {_describe(self.failures, error)}; the message will be retried "
            "and dead-lettered after the bus's max delivery count"
        )


class DbtBuildFailedFinally(TerminalError):
    """The build failed on the last allowed delivery: dead-letter now, with dbt's error attached.

    Raising a terminal error here (instead of letting the bus dead-letter on
    MaxDeliveryCountExceeded) is what puts dbt's message into the dead-letter description, so
    ``wdp dlq list`` shows why; fix the model or data, then ``wdp dlq replay``.
    """

    def __init__(self, cause: DbtBuildFailed, deliveries: int) -> None:
        self.failures = cause.failures
        self.error = cause.error
        super().__init__(
            f"dbt build failed on delivery {deliveries}: {_describe(cause.failures, cause.error)}"
        )
