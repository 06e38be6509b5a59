"""Counting field builders of the contract test double, and the context they count into.

Every resolver counts its calls in `ContractContext.calls` ("Customer.email": 2), so a test
can prove that a denied field cost no resolver call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry

from schema.analysis import RowFilters
from schema.context import GatewayContext
from schema.principal import ANONYMOUS, Principal


@dataclass
class ContractContext(GatewayContext):
    """The gateway's context over no backend (the contract resolvers read their own rows),
    counting the resolvers' calls."""

    calls: Counter[str] = field(default_factory=Counter)

    def resolver_filters(self) -> RowFilters:
        """The row filters resolvers apply, as the real loaders push them into queries."""
        return self.row_filters


def contract_context(
    principal: Principal = ANONYMOUS, context_type: type[ContractContext] = ContractContext
) -> ContractContext:
    """A contract context for `principal` (no connector: nothing here loads)."""
    return context_type(crm=None, scm=None, principal=principal)  # type: ignore[arg-type]


def hit(info: strawberry.Info) -> ContractContext:
    """Count one call of the field being resolved; the context, for the resolver to read."""
    context: ContractContext = info.context
    context.calls[f"{info._raw_info.parent_type.name}.{info.field_name}"] += 1
    return context


def col(key: str, kind: Any) -> Any:
    """A field read from the row dict `root.row[key]`, counting the call."""

    def resolve(root: Any, info: strawberry.Info) -> Any:
        hit(info)
        return root.row.get(key)

    resolve.__annotations__["return"] = kind
    return strawberry.field(resolver=resolve)


def acol(key: str, kind: Any) -> Any:
    """`col`, but async like the real loaders: masks and re-checks must handle awaitables."""

    async def resolve(root: Any, info: strawberry.Info) -> Any:
        hit(info)
        return root.row.get(key)

    resolve.__annotations__["return"] = kind
    return strawberry.field(resolver=resolve)


def rel(kind: Any, fetch: Callable[[Any, Any], Any]) -> Any:
    """A field computed by `fetch(root, context)`, counting the call."""

    def resolve(root: Any, info: strawberry.Info) -> Any:
        return fetch(root, hit(info))

    resolve.__annotations__["return"] = kind
    return strawberry.field(resolver=resolve)
