"""The transformer's metrics (OpenTelemetry): failed data tests, counted once per test run.

The meter comes from the process's meter provider (``opentelemetry.metrics``, a no-op until an
exporter is configured); tests pass their own provider's meter to read the counts back.
"""

from __future__ import annotations

from opentelemetry import metrics

METER_NAME = "wdp.transformer"
DATA_TEST_FAILURES = "wdp.transformer.data_test_failures"
GOLD_PUBLICATIONS = "wdp.transformer.gold_publications"


class TransformerMetrics:
    """Counters the handler adds to; one instance per service."""

    def __init__(self, meter: metrics.Meter | None = None) -> None:
        meter = meter or metrics.get_meter(METER_NAME)
        self.data_test_failures = meter.create_counter(
            DATA_TEST_FAILURES,
            unit="{test}",
            description="Data tests that failed in a test run (each failing test once per run)",
        )
        self.gold_publications = meter.create_counter(
            GOLD_PUBLICATIONS,
            unit="{publication}",
            description="Audited gold versions published to readers",
        )

    def data_test_failed(self, test_name: str) -> None:
        """Count one failing data test, labelled with the test's name."""
        self.data_test_failures.add(1, {"test": test_name})

    def gold_published(self) -> None:
        """Count one publication of audited gold."""
        self.gold_publications.add(1)
