"""A typed face for `@strawberry.field(description=...)` on resolver methods.

strawberry types that decorator form as returning Any, which strict mypy rejects as an
untyped decorator; this wrapper keeps the method's own signature visible to the checker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

F = TypeVar("F", bound=Callable[..., Any])


def resolver(description: str) -> Callable[[F], F]:
    """`@resolver("What the field means.")` on a method makes it a described GraphQL field."""
    return cast(Callable[[F], F], strawberry.field(description=description))
