"""A deadline per GraphQL query: every backend call it makes ends by then (`[graphql]
operation_deadline_s`).

    strawberry.Schema(Query, extensions=[OperationDeadline.factory(30.0)])

Each backend attempt already has its own deadline (`[crm]`/`[scm] attempt_deadline_s`); this
one bounds the operation as a whole, retries and levels of joins included. A call that would
start after it, or is still running when it passes, fails with BACKEND_TIMEOUT at its path and
counts as a failure for that backend's breaker; the rest of the response stands. Mutations
are bounded per attempt only: cutting the order process between two journaled steps would
leave more outcomes to recover than it saves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.deadline import operation_deadline


class OperationDeadline(SchemaExtension):
    """Runs each query operation under `resolvers.deadline.operation_deadline(seconds)`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    @classmethod
    def factory(cls, seconds: float) -> Callable[[], OperationDeadline]:
        return lambda: cls(seconds)

    def _is_query(self) -> bool:
        try:
            return self.execution_context.operation_type is OperationType.QUERY
        except RuntimeError:  # no single operation: execution reports that itself
            return True

    def on_execute(self) -> Iterator[None]:
        if not self._is_query():
            yield
            return
        with operation_deadline(self.seconds):
            yield
