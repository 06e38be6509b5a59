"""Per-field hooks run only for operations whose extensions say they need them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import strawberry
from strawberry.extensions import SchemaExtension

from schema.build import CrossdockSchema, DeferredMiddleware, build_schema


@strawberry.type
class Query:
    a: int = 1
    b: str = "b"


class Hook(SchemaExtension):
    """Counts hook calls; needs its hook only when the operation is named `Hooked`."""

    calls: ClassVar[list[str]] = []

    def on_execute(self) -> Iterator[None]:
        self.wanted = self.execution_context.operation_name == "Hooked"
        yield

    def needs_field_hook(self) -> bool:
        return self.wanted

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *a: Any, **k: Any) -> Any:
        Hook.calls.append(info.field_name)
        return _next(root, info, *a, **k)


class AlwaysHook(SchemaExtension):
    """A hook that does not say: it runs for every field, as strawberry would run it."""

    calls: ClassVar[list[str]] = []

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *a: Any, **k: Any) -> Any:
        AlwaysHook.calls.append(info.field_name)
        return _next(root, info, *a, **k)


async def test_a_hook_that_is_not_needed_is_never_called() -> None:
    Hook.calls = []
    schema = build_schema(extensions=[Hook], query=Query)
    result = await schema.execute("query Plain { a b }", root_value=Query())
    assert result.errors is None
    assert result.data == {"a": 1, "b": "b"}
    assert Hook.calls == []


async def test_a_needed_hook_runs_for_every_field() -> None:
    Hook.calls = []
    schema = build_schema(extensions=[Hook], query=Query)
    result = await schema.execute("query Hooked { a b }", root_value=Query())
    assert result.errors is None
    assert Hook.calls == ["a", "b"]


async def test_a_hook_without_an_opinion_always_runs() -> None:
    Hook.calls, AlwaysHook.calls = [], []
    schema = build_schema(extensions=[Hook, AlwaysHook], query=Query)
    result = await schema.execute("query Plain { a }", root_value=Query())
    assert result.errors is None
    assert (Hook.calls, AlwaysHook.calls) == ([], ["a"])


async def test_one_schema_decides_again_for_every_operation() -> None:
    Hook.calls = []
    schema = build_schema(extensions=[Hook], query=Query)
    for name in ("Hooked", "Plain", "Hooked"):
        result = await schema.execute(f"query {name} {{ a }}", root_value=Query())
        assert result.errors is None
    assert Hook.calls == ["a", "a"]


def test_strawberry_still_builds_its_middleware_through_the_overridden_hook() -> None:
    """DeferredMiddleware relies on strawberry's private `_get_middleware_manager(extensions)`:
    this fails loudly when strawberry renames it or changes what it takes."""
    import inspect

    private = getattr(strawberry.Schema, "_get_middleware_manager", None)
    assert private is not None, "strawberry no longer has Schema._get_middleware_manager"
    assert list(inspect.signature(private).parameters) == ["self", "extensions"]
    assert CrossdockSchema._get_middleware_manager is not private


def test_until_it_decides_the_manager_carries_every_hook() -> None:
    """A graphql-core reading the manager without asking it first still runs every hook."""
    hooks = [Hook(), AlwaysHook()]
    manager = DeferredMiddleware(hooks)
    assert bool(manager)
    assert list(manager.middlewares) == hooks
    assert manager._middleware_resolvers is not None
    assert len(manager._middleware_resolvers) == 2


def test_a_manager_without_hooks_is_falsy_so_fields_resolve_directly() -> None:
    manager = DeferredMiddleware([])
    assert not manager
    resolver = object()
    assert manager.get_field_resolver(resolver) is resolver
