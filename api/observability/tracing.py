"""Traces, with OpenTelemetry: FastAPI's own server span per request, a span per statement.

Off unless OpenTelemetry is configured, and then costing nothing: FastAPI's telemetry hooks
stay off, as does the statements' tracer. It is on when, as the app is made,

- the standard variables name an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or
  `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): FastAPI then sets up the SDK's provider and its OTLP
  (http/protobuf) exporter at startup, from these and the other `OTEL_*` variables
  (`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, ...); it needs the `telemetry` extra
  (`pip install 'api[telemetry]'`);
- a tracer provider was set before (`opentelemetry-instrument`, or a host application);
- or one is given to `create_app` (tests, with the SDK's in-memory exporter).

FastAPI then makes each request a server span (route template, status; an incoming
`traceparent` continues the caller's trace), api/http/edge.py adds the request id, and
api/observability/statements.py makes each statement a child span named by its query file.
Only traces: metrics are /metrics' and logs are the service's JSON lines (FastAPI's log
records would carry exception messages, which may quote what a client sent). For the same
reason a span keeps the names of a request's query parameters, not their values: what a
client searched for is its own (`url.query`: `q=REDACTED&limit=20`).
"""

from __future__ import annotations

import os
import weakref
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider, Tracer, TracerProvider

TRACER_NAME = "api.data"
URL_QUERY = "url.query"
REDACTED = "REDACTED"
ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def _configured(provider: TracerProvider) -> bool:
    """Not the API's stand-in, which hands out spans that record nothing until an SDK is set."""
    return not isinstance(provider, (ProxyTracerProvider, trace.NoOpTracerProvider))


def wanted(provider: TracerProvider | None = None) -> bool:
    """Whether requests are to be traced (see the module's docstring)."""
    if provider is not None:
        return True
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return any(os.environ.get(name) for name in ENDPOINTS) or _configured(trace.get_tracer_provider())


def telemetry(provider: TracerProvider | None = None) -> TelemetryConfig:
    """FastAPI's `telemetry=`: its server spans when traced, and nothing at all otherwise."""
    traced = wanted(provider)
    return {
        "tracing": traced,
        "tracer_provider": provider,
        "auto_configure": traced,  # the OTLP exporter from the OTEL_* variables, at startup
        # The dependency, endpoint and serialization spans would sit between a request and its
        # statements and cost a span each; the statements are where a request's time goes.
        "operation_spans": False,
        "metrics": False,
        "logs": False,
    }


def statement_tracer(provider: TracerProvider | None = None) -> Tracer | None:
    """The tracer of statements' spans, once FastAPI configured its provider (at startup); None
    when nothing records them, so that an untraced statement does not ask. The provider's spans
    get their query values redacted from then on."""
    provider = provider or trace.get_tracer_provider()
    if not _configured(provider):
        return None
    _redact_query_values(provider)
    return provider.get_tracer(TRACER_NAME)


def redacted(query: str) -> str:
    """A query string with each value replaced, its names kept."""
    return urlencode([(name, REDACTED) for name, _ in parse_qsl(query, keep_blank_values=True)])


_redacting: weakref.WeakSet[TracerProvider] = weakref.WeakSet()  # the providers told already: one processor each


def _redact_query_values(provider: TracerProvider) -> None:
    add = getattr(provider, "add_span_processor", None)  # the SDK's; a vendor's may lack it
    if add is None or provider in _redacting:
        return
    try:
        from opentelemetry.sdk.trace import SpanProcessor  # the telemetry extra's SDK
    except ImportError:  # a vendor's provider without it: its own settings decide what it keeps
        return

    class QueryValuesRedacted(SpanProcessor):
        """Runs as each span starts, before any exporter sees it (they act when it ends)."""

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            query = (span.attributes or {}).get(URL_QUERY)
            if query:
                span.set_attribute(URL_QUERY, redacted(query))

    add(QueryValuesRedacted())
    _redacting.add(provider)
