"""Query execution: graphql-core's executor, completing a field for a batch of objects at once."""

from schema.execution.context import BatchedExecutionContext
from schema.execution.hooks import DeferredMiddleware

__all__ = ["BatchedExecutionContext", "DeferredMiddleware"]
