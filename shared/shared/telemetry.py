"""OpenTelemetry setup and W3C trace-context propagation through message properties.

One trace spans every hop: the receiver starts it on the webhook request; each publisher
injects ``traceparent`` into the message's application properties; each consumer extracts it
and starts its span as a child. Exporter: none, console, OTLP, or Azure Monitor when
``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource as OtelResource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from shared.settings import PlatformSettings

_configured: dict[str, bool] = {}


class FileSpanExporter(SpanExporter):
    """Append finished spans as JSON lines to one file that every local process shares.

    Why: the e2e test and ``wdp demo`` need to see the spans of six processes in one place
    without a collector. Each span is one ``os.write`` on an ``O_APPEND`` descriptor, which
    Linux keeps whole for lines this short, so concurrent writers do not interleave.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    @staticmethod
    def to_dict(span: ReadableSpan) -> dict[str, Any]:
        """The fields tests and the demo summary read (ids as lower-case hex)."""
        ctx = span.get_span_context()
        parent = span.parent
        return {
            "name": span.name,
            "service": span.resource.attributes.get("service.name"),
            "kind": span.kind.name if span.kind is not None else None,
            "trace_id": format(ctx.trace_id, "032x") if ctx is not None else None,
            "span_id": format(ctx.span_id, "016x") if ctx is not None else None,
            "parent_span_id": format(parent.span_id, "016x") if parent is not None else None,
            "start_ns": span.start_time,
            "end_ns": span.end_time,
            "status": span.status.status_code.name,
            "attributes": dict(span.attributes or {}),
            "links": [
                {
                    "trace_id": format(link.context.trace_id, "032x"),
                    "span_id": format(link.context.span_id, "016x"),
                }
                for link in span.links
            ],
        }

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write each span as one line; a closed exporter drops spans (shutdown race)."""
        if self._fd is None:
            return SpanExportResult.FAILURE
        for span in spans:
            line = json.dumps(self.to_dict(span), default=str) + "\n"
            os.write(self._fd, line.encode())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Close the file descriptor."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered: every export is written straight through."""
        del timeout_millis
        return True


def configure_tracing(
    service: str, settings: PlatformSettings, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Install a tracer provider for this process once; tests may pass their own exporter.

    Returns:
        The provider, or ``None`` when a provider was already installed.
    """
    if settings.applicationinsights_connection_string is not None and exporter is None:
        from azure.monitor.opentelemetry import configure_azure_monitor

        configure_azure_monitor(
            connection_string=settings.applicationinsights_connection_string.get_secret_value(),
            resource=OtelResource.create({"service.name": service}),
        )
        _configured[service] = True
        return None
    if _configured.get("__provider__"):
        return None
    provider = TracerProvider(resource=OtelResource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.otel_exporter == "file":
        # Synchronous on purpose: a span must be on disk before a killed process loses it.
        provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(settings.otel_spans_file)))
    elif settings.otel_exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif settings.otel_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint))
        )
    trace.set_tracer_provider(provider)
    _configured["__provider__"] = True
    return provider


def inject_trace(properties: dict[str, Any]) -> dict[str, Any]:
    """Add ``traceparent`` (and ``tracestate``) of the current span to message properties."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    properties.update(carrier)
    return properties


def extract_trace(properties: Mapping[str, Any]) -> context.Context:
    """The remote parent context carried by a message's properties."""
    carrier = {k: str(v) for k, v in properties.items() if k in ("traceparent", "tracestate")}
    return propagate.extract(carrier)


def current_trace_id() -> str | None:
    """Hex trace id of the current span, for logs, blob metadata and raw tables."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def tracer(name: str) -> trace.Tracer:
    """A tracer for a module (thin wrapper so services do not import OTel directly)."""
    return trace.get_tracer(name)
