"""The extensions' per-field `resolve` hooks, installed only for operations that need them.

strawberry builds the middleware before parsing, from every extension that defines `resolve`;
graphql-core then calls it for every field of every request. Here an extension may also define
`needs_field_hook() -> bool`, asked once, when execution starts (after every `on_execute`
ran): when no extension needs its hook for this operation, every field resolves directly,
with no per-field call at all. When some do, the batched executor asks each active one
`needs_field_hook_at(parent, field_name)` once per field and operation, and hooks only
those fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLObjectType
from graphql.execution.middleware import MiddlewareManager, get_middleware_resolvers
from strawberry.extensions import SchemaExtension


class DeferredMiddleware(MiddlewareManager):
    """A MiddlewareManager whose hooks are chosen at the first field of each operation."""

    def __init__(self, extensions: Sequence[SchemaExtension]) -> None:
        # Until the decision every hook is installed, as strawberry would install it: a
        # graphql-core that reads the manager some other way still runs every hook (safe).
        self._candidates = tuple(e for e in extensions if e._implements_resolve())
        super().__init__(*self._candidates)
        self._decided = not self._candidates

    def _decide(self) -> None:
        active = tuple(e for e in self._candidates if _needs_hook(e))
        self.middlewares = active
        self._middleware_resolvers = list(get_middleware_resolvers(active)) if active else None
        self._decided = True

    def active(self) -> bool:
        """Whether any hook runs for this operation (decides, the first time it is asked)."""
        if not self._decided:
            self._decide()
        return self._middleware_resolvers is not None

    def needed_at(self, parent: GraphQLObjectType, field_name: str) -> bool:
        """Whether a hook must see `parent.field_name`: an active extension may say a field
        needs none with `needs_field_hook_at(parent, name) -> bool` (else: every field)."""
        for extension in self.middlewares:
            asks = getattr(extension, "needs_field_hook_at", None)
            if asks is None or asks(parent, field_name):
                return True
        return False

    def __bool__(self) -> bool:
        return self._middleware_resolvers is not None

    def get_field_resolver(self, field_resolver: Any) -> Any:
        if not self._decided:
            self._decide()
        return super().get_field_resolver(field_resolver)


def hooks_needed_at(
    manager: MiddlewareManager | None, parent: GraphQLObjectType, field_name: str
) -> bool:
    """Whether `parent.field_name` must go through `manager` (hooks being active)."""
    if isinstance(manager, DeferredMiddleware):
        return manager.needed_at(parent, field_name)
    return manager is not None


def hooks_active(manager: MiddlewareManager | None) -> bool:
    """Whether fields must go through `manager` for the current operation."""
    if manager is None:
        return False
    if isinstance(manager, DeferredMiddleware):
        return manager.active()
    return bool(manager)


def _needs_hook(extension: SchemaExtension) -> bool:
    asks = getattr(extension, "needs_field_hook", None)
    return True if asks is None else bool(asks())
