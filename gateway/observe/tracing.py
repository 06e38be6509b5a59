"""OpenTelemetry traces: a span per GraphQL operation, its steps and each backend HTTP try.

    operation  "query Orders"  (SERVER; graphql.operation.name/type, graphql.document.hash)
    ├── graphql.parse
    ├── graphql.validate
    ├── crossdock.access        the access decision (policy analysis, limits), before execution
    └── graphql.execute
        ├── GET /crm/v8/Sales_Orders          (CLIENT; http.request.method, url.template,
        └── POST /api/method/frappe.client.get_list   http.response.status_code, ...)

Spans carry names, hashes, routes and statuses: never variables, documents (a document may
hold literal values), field values, URLs with their queries, or headers. Each backend try
carries the W3C `traceparent` of its span (the global propagator, `OTEL_PROPAGATORS`), so
the backends' traces join the gateway's. An operation whose request came with a
`traceparent` joins the caller's trace.

Off by default (`[tracing] enabled`); `OTEL_SDK_DISABLED=true` also turns it off. When off
nothing here is attached: no extension, no hook on the requesters. The exporter, service name
and sampler follow the standard variables: OTEL_TRACES_EXPORTER (`otlp`, the default,
`console`, `none`), OTEL_SERVICE_NAME (default `crossdock`), OTEL_TRACES_SAMPLER,
OTEL_EXPORTER_OTLP_* (read by the OTLP exporter itself).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from strawberry.extensions import SchemaExtension

from gateway.settings import SettingsError
from gateway.settings.observe import TracingSettings
from resolvers.http import Outcome, Send, Try, route_template
from resolvers.transport import Reply
from schema.context import GatewayContext

SERVICE = "crossdock"
EXPORTERS = ("otlp", "console", "none")
OPERATION = "GraphQL Operation"  # the span's name until the document says more


def document_hash(document: str) -> str:
    """`sha256:<hex>` of a document's text: names the document without showing its values."""
    return "sha256:" + hashlib.sha256(document.encode()).hexdigest()


def tracing_disabled(env: Mapping[str, str]) -> bool:
    return env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def exporter_from_env(env: Mapping[str, str]) -> SpanExporter | None:
    """The exporter OTEL_TRACES_EXPORTER names (default `otlp`); None for `none`."""
    name = env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, ...
    raise SettingsError(
        f"OTEL_TRACES_EXPORTER={name!r} is not supported; use one of {', '.join(EXPORTERS)} "
        "(otlp sends OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT)"
    )


def open_tracing(settings: TracingSettings, env: Mapping[str, str]) -> Tracing | None:
    """The app's tracing from `[tracing]` and the OTEL_* variables; None when off."""
    if not settings.enabled or tracing_disabled(env):
        return None
    exporter = exporter_from_env(env)
    processor = None if exporter is None else BatchSpanProcessor(exporter)
    return Tracing.with_processor(processor, service=env.get("OTEL_SERVICE_NAME") or SERVICE)


@dataclass
class Tracing:
    """One gateway's tracer; `extensions()` for the schema, `attempt` for the requesters."""

    provider: TracerProvider
    tracer: Tracer = field(init=False)

    def __post_init__(self) -> None:
        self.tracer = self.provider.get_tracer("crossdock.gateway")

    @classmethod
    def with_processor(cls, processor: SpanProcessor | None, *, service: str = SERVICE) -> Tracing:
        """Tracing over a provider of its own (the sampler: OTEL_TRACES_SAMPLER)."""
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        if processor is not None:
            provider.add_span_processor(processor)
        return cls(provider)

    def extensions(self) -> tuple[type[SchemaExtension], type[SchemaExtension]]:
        """(first of all extensions, last of all): together they bracket the others' work."""
        attrs = {"tracing": self}
        head = type("ConfiguredOperationSpans", (OperationSpans,), attrs)
        tail = type("ConfiguredExecutionSpan", (ExecutionSpan,), attrs)
        return head, tail

    async def attempt(self, system: str, one: Try, send: Send) -> Outcome:
        """The requesters' `trace` hook: one HTTP try in a CLIENT span, `traceparent` sent."""
        route = route_template(one.where.partition(" ")[2])
        with self.tracer.start_as_current_span(
            f"{one.method} {route}",
            kind=SpanKind.CLIENT,
            attributes=_request_attributes(system, one, route),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            headers = dict(one.request.get("headers") or {})
            propagate.inject(headers)
            outcome = await send(replace(one, request={**one.request, "headers": headers}))
            _record_outcome(span, outcome)
            return outcome

    async def shutdown(self) -> None:
        """Flush what is pending and stop the exporter (app shutdown)."""
        self.provider.shutdown()


def _request_attributes(system: str, one: Try, route: str) -> dict[str, Any]:
    parts = urlsplit(one.url)
    attributes: dict[str, Any] = {
        "http.request.method": one.method,
        "url.template": route,
        "server.address": parts.hostname or "",
        "crossdock.backend.system": system,
    }
    port = parts.port or (443 if parts.scheme == "https" else 80)
    attributes["server.port"] = port
    if one.retries:
        attributes["http.request.resend_count"] = one.retries
    return attributes


def _record_outcome(span: Span, outcome: Outcome) -> None:
    if isinstance(outcome, Reply):
        status = outcome.status_code
        span.set_attribute("http.response.status_code", status)
        if status >= 400:
            span.set_attribute("error.type", str(status))
            span.set_status(Status(StatusCode.ERROR))
        return
    failure = outcome[0]
    cause = failure.__cause__
    span.set_attribute("error.type", type(cause or failure).__name__)
    span.set_status(Status(StatusCode.ERROR, failure.code))


@dataclass
class _Operation:
    """What the two extensions of one operation share: its span and the access span."""

    span: Span
    access: Span | None = None


_operation: ContextVar[_Operation | None] = ContextVar("crossdock_operation_span", default=None)


class OperationSpans(SchemaExtension):
    """First of the extensions: the operation span (current while it runs), parse and
    validation spans, and the start of the access span (ended by `ExecutionSpan`)."""

    tracing: ClassVar[Tracing]

    def on_operation(self) -> Iterator[None]:
        tracer = self.tracing.tracer
        span = tracer.start_span(OPERATION, context=_incoming(self), kind=SpanKind.SERVER)
        context = self.execution_context.context
        if isinstance(context, GatewayContext):
            span.set_attribute("crossdock.request_id", context.request_id)
        token = otel_context.attach(trace.set_span_in_context(span))
        state = _operation.set(_Operation(span))
        try:
            yield
        finally:
            _finish_operation(self, span)
            _operation.reset(state)
            otel_context.detach(token)

    def on_parse(self) -> Iterator[None]:
        with self.tracing.tracer.start_as_current_span("graphql.parse"):
            yield

    def on_validate(self) -> Iterator[None]:
        with self.tracing.tracer.start_as_current_span("graphql.validate"):
            yield

    def on_execute(self) -> Iterator[None]:
        current = _operation.get()
        if current is not None:
            current.access = self.tracing.tracer.start_span("crossdock.access")
        yield


class ExecutionSpan(SchemaExtension):
    """Last of the extensions: ends the access span once every other extension has decided,
    then runs execution in its span (the backend calls' parent)."""

    tracing: ClassVar[Tracing]

    def on_execute(self) -> Iterator[None]:
        current = _operation.get()
        if current is not None and current.access is not None:
            refused = self.execution_context.result is not None  # answered before execution
            current.access.set_attribute("crossdock.access.refused", refused)
            current.access.end()
            current.access = None
        with self.tracing.tracer.start_as_current_span("graphql.execute"):
            yield


def _incoming(extension: SchemaExtension) -> otel_context.Context | None:
    """The caller's trace context, when its request carried a `traceparent`."""
    context = extension.execution_context.context
    request = getattr(context, "request", None)
    headers = getattr(request, "headers", None)
    if headers is None or "traceparent" not in headers:
        return None
    return propagate.extract(headers)


def _finish_operation(extension: SchemaExtension, span: Span) -> None:
    """Names the span after the operation and sets its outcome, then ends it."""
    ctx = extension.execution_context
    kind = _kind(extension)
    name = _name(extension)
    if name:
        span.set_attribute("graphql.operation.name", name)
    if kind:
        span.set_attribute("graphql.operation.type", kind)
        span.update_name(f"{kind} {name}" if name else kind)
    if ctx.query:
        span.set_attribute("graphql.document.hash", document_hash(ctx.query))
    errors = list(getattr(ctx.result, "errors", None) or ctx.pre_execution_errors or ())
    if errors:
        span.set_attribute("crossdock.graphql.errors", len(errors))
        span.set_status(Status(StatusCode.ERROR))
    span.end()


def _name(extension: SchemaExtension) -> str | None:
    try:
        return extension.execution_context.operation_name
    except Exception:  # a document that did not parse names no operation
        return None


def _kind(extension: SchemaExtension) -> str | None:
    try:
        return str(extension.execution_context.operation_type.value)
    except Exception:  # a document that did not parse has no operation
        return None
