"""Structured logs: one JSON object a line (`[logging] format = "json"`), so that one request
can be followed across the gateway, its backends (the trace id they received) and the sync.

Every line of a request carries its request id, trace id, subject and operation name (kept in
a context variable by `AccessLog`, filled in by `OperationLog`); the access line, written by
`AccessLog` when the request ends, adds method, path, status and duration:

    {"time": "...", "level": "INFO", "logger": "crossdock.access", "message": "access",
     "request_id": "9f1c...", "trace_id": "4bf9...", "subject": "alice", "operation": "Orders",
     "method": "POST", "path": "/graphql", "status": 200, "duration_ms": 12.4, "pid": 4242}

Never in a line: tokens, variables, field values. Paths are written without their query
string (a GET operation carries its document and variables there); httpx's own request lines
(full backend URLs with their filters) are not written (its logger is held at WARNING); an
exception is written as its type and stack, without its message. In JSON mode uvicorn's own
access line is off: this one replaces it.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from gateway.settings.observe import LoggingSettings
from schema.context import GatewayContext

access_logger = logging.getLogger("crossdock.access")
# loggers whose INFO lines would show values: httpx writes every request's full URL
QUIET = ("httpx", "httpcore")


@dataclass
class RequestLog:
    """What the lines of one request say about it."""

    request_id: str
    subject: str | None = None
    operation: str | None = None
    trace_id: str | None = None


_request: ContextVar[RequestLog | None] = ContextVar("crossdock_request_log", default=None)


class AccessLog:
    """ASGI middleware (inside the request id's): the request's log context, and its access
    line when the response has been sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(scope.get("state", {}).get("request_id", "-"))
        current = RequestLog(request_id)
        token = _request.set(current)
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            access_logger.info(
                "access",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],  # without the query string
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            _request.reset(token)


class OperationLog(SchemaExtension):
    """Notes the operation's subject, name and trace id in the request's log context."""

    def on_operation(self) -> Iterator[None]:
        current = _request.get()
        if current is not None:
            context = self.execution_context.context
            if isinstance(context, GatewayContext):
                current.subject = context.principal.subject
            current.trace_id = _trace_id() or current.trace_id
        yield
        if current is not None:
            try:
                current.operation = self.execution_context.operation_name
            except Exception:  # a document that did not parse names no operation
                current.operation = None


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object, with the request's context when it has one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process or os.getpid(),
        }
        current = _request.get()
        if current is not None:
            line["request_id"] = current.request_id
            line["subject"] = current.subject
            line["operation"] = current.operation
        trace_id = _trace_id() or (current.trace_id if current is not None else None)
        if trace_id is not None:
            line["trace_id"] = trace_id
        for name in _FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, stack = record.exc_info
            line["exception"] = {
                "type": kind.__name__,  # not its message: it may quote a value
                "stack": "".join(traceback.format_tb(stack)),
            }
        return orjson.dumps(line, default=str).decode()


def log_config(settings: LoggingSettings, *, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """uvicorn's `log_config` for these settings: `base` (uvicorn's own) for text, else JSON
    lines on stderr for every logger, uvicorn's access line off (`AccessLog` writes it)."""
    if not settings.json:
        if base is not None:
            return base
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"handlers": ["json"], "level": settings.level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": settings.level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": settings.level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }
