"""OpenTelemetry setup and W3C trace-context propagation through message properties.

One trace spans every hop: the receiver starts it on the webhook request; each publisher
injects ``traceparent`` into the message's application properties; each consumer extracts it
and starts its span as a child. Exporter: none, console, OTLP, or Azure Monitor when
``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource as OtelResource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from shared.settings import PlatformSettings

_configured: dict[str, bool] = {}


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
