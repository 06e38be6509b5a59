"""Breaking chosen fields on purpose: failures no backend fault can produce.

    schema = build_schema(extensions=[ErrorFormatting, Sabotage])
    context = SabotagedContext(crm=crm, scm=scm, sabotage={"Order.number": "null_async"})

For the fields the context names, a third of the objects (picked by response path, so the
same whatever order an executor resolves them in) fail in one of `MODES`: a CrossdockError
raised (sync, or from an awaitable), null returned (sync or awaited), a value the field's
type cannot complete (wrong scalar, unknown enum member, not a list), an odd value that
graphql-core coerces or refuses in its own way (`ODD`), or an unexpected exception (masked
by ErrorFormatting). Other fields and other objects resolve as usual.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLEnumType, GraphQLList, GraphQLObjectType, get_nullable_type
from strawberry.extensions import SchemaExtension

from resolvers.errors import BackendRejected
from schema.context import GatewayContext

MODES = ("raise", "raise_async", "null", "null_async", "bad_value", "odd_value", "crash")

GENERATOR = object()  # stands for a fresh generator: a one-shot iterable as a list

# Values a resolver may return that graphql-core's completion coerces, or refuses, each its
# own way: numeric strings, bools as numbers, out-of-range ints, NaN, naive datetimes, any
# iterable as a list, a mapping or a string where a list or an object is expected.
ODD: dict[str, tuple[Any, ...]] = {
    "Float": (float("nan"), float("inf"), True, "1.5", "abc", Decimal("2.5"), 2**70, 3),
    "Int": (2**31, -(2**31) - 1, 1.0, 1.5, True, "7", "x"),
    "String": (7, 1.5, True, False, Decimal("1.10"), ["a"]),
    "ID": (7, 1.5, True, "x", ""),
    "Boolean": (1, 0, "true", 1.0, 2, None),
    "Decimal": (Decimal("1.50"), Decimal("1E+3"), 1.5, 3, "x", True),
    "DateTime": (datetime(2020, 1, 1), datetime(2020, 1, 1, tzinfo=UTC), date(2020, 1, 1), "x"),
    "list": ((), ("x",), "abc", {"a": 1}, 7, [None], range(2), GENERATOR),
    "object": ({"id": "1", "name": "n"}, 7, "x", []),
}


@dataclass
class SabotagedContext(GatewayContext):
    """A context naming the fields to break: `{"Order.number": "raise", ...}`."""

    sabotage: Mapping[str, str] = field(default_factory=dict)


def _path_text(path: Any) -> str:
    keys = []
    while path is not None:
        keys.append(str(path.key))
        path = path.prev
    return "/".join(reversed(keys))


def chosen(path: Any) -> bool:
    """A third of the objects, picked by response path: the same in any execution order."""
    return zlib.crc32(_path_text(path).encode()) % 3 == 0


def odd_value(return_type: Any, path: Any) -> Any:
    """One of the `ODD` values for the field's type, picked by response path."""
    inner = get_nullable_type(return_type)
    if isinstance(inner, GraphQLList):
        choices = ODD["list"]
    elif isinstance(inner, GraphQLObjectType):
        choices = ODD["object"]
    elif isinstance(inner, GraphQLEnumType):
        member = next(iter(inner.values.values())).value
        choices = (member, next(iter(inner.values)), str(member).lower(), 1)
    else:
        choices = ODD.get(inner.name, (None,))
    value = choices[zlib.crc32(_path_text(path).encode()) % len(choices)]
    return (item for item in ("g",)) if value is GENERATOR else value


def bad_value(return_type: Any) -> Any:
    """A value the field's type cannot complete: wrong scalar, unknown enum, not a list."""
    inner = get_nullable_type(return_type)
    if isinstance(inner, GraphQLList | GraphQLObjectType):
        return 7
    if isinstance(inner, GraphQLEnumType):
        return "NOT_A_MEMBER"
    if inner.name in ("Float", "Int", "Boolean"):
        return "not a number"
    return {"not": "a string"}


class Sabotage(SchemaExtension):
    """Breaks the fields `SabotagedContext.sabotage` names (see the module docstring)."""

    def on_execute(self) -> Iterator[None]:
        self.targets: Mapping[str, str] = getattr(self.execution_context.context, "sabotage", {})
        yield

    def needs_field_hook(self) -> bool:
        return bool(self.targets)

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *a: Any, **k: Any) -> Any:
        where = f"{info.parent_type.name}.{info.field_name}"
        mode = self.targets.get(where)
        if mode is None or not chosen(info.path):
            return _next(root, info, *a, **k)
        if mode == "raise":
            raise BackendRejected(f"sabotaged {where}", system="test")
        if mode == "crash":
            raise RuntimeError(f"unexpected failure in {where}")
        if mode == "null":
            return None
        if mode == "bad_value":
            return bad_value(info.return_type)
        if mode == "odd_value":
            return odd_value(info.return_type, info.path)
        return _later(mode, where)


async def _later(mode: str, where: str) -> Any:
    if mode == "raise_async":
        raise BackendRejected(f"sabotaged {where} (awaited)", system="test")
    return None
