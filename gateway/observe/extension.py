"""Counts and times every GraphQL operation, and counts its errors by code.

Listed before the error formatting, so it reads the codes clients see; an operation refused
before execution (parse, validation, access "reject") counts as `refused`, one answered with
errors as `error`, the rest as `ok`. While the operation runs, its loaders' batch sizes are
counted (resolvers.batch_sizes).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import ClassVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.observe.metrics import Metrics
from resolvers.batch_sizes import batch_observer

UNKNOWN = "unknown"  # the operation type of a document that did not parse


class OperationMetrics(SchemaExtension):
    metrics: ClassVar[Metrics]

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        token = batch_observer.set(self.metrics.loader_batch)  # the loaders' batch sizes
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):  # ended in another context: nothing to undo
                batch_observer.reset(token)
        ctx = self.execution_context
        seconds = time.perf_counter() - started
        errors: list[GraphQLError] = list(getattr(ctx.result, "errors", None) or ())
        data = getattr(ctx.result, "data", None)
        refused = bool(ctx.pre_execution_errors) or (bool(errors) and data is None)
        outcome = "refused" if refused else "error" if errors else "ok"
        self.metrics.operation(ctx.operation_name, _kind(self), outcome, seconds)
        self.metrics.error_codes(_code(e) for e in errors)


def _kind(extension: SchemaExtension) -> str:
    try:
        return extension.execution_context.operation_type.value
    except Exception:  # no operation in a document that did not parse or validate
        return UNKNOWN


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else "INTERNAL_SERVER_ERROR"


def operation_metrics(metrics: Metrics) -> type[SchemaExtension]:
    """The extension class counting into `metrics`."""
    return type("ConfiguredOperationMetrics", (OperationMetrics,), {"metrics": metrics})
