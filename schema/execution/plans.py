"""What the batched executor knows about a field before it runs: built once per schema field.

A `FieldPlan` says how to read the field (a plain attribute of the parent object, or the
field's resolver) and a `Shape` says how to complete what it returns: a leaf coerced in a tight
loop, an object whose sub-selection runs for every such object at once, a list of shapes, or
`DELEGATE` for anything else (abstract types, `is_type_of` checks), which graphql-core completes
field by field exactly as it would without this executor.

    plan = plans.field(parent_type, field_def)
    plan.attribute          # "sku" for strawberry's plain attribute, "record.number" for a
                            # from_record field (record_fields), else None
    plan.shape.kind         # LEAF | OBJECT | LIST | DELEGATE
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.pyutils import inspect

from schema.execution.batch_resolvers import BatchResolver, batch_of
from schema.execution.record_fields import record_attribute

LEAF, OBJECT, LIST, DELEGATE = "leaf", "object", "list", "delegate"

Coerce = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Shape:
    """How to complete one level of a field's type (the spec's CompleteValue, unrolled)."""

    kind: str
    non_null: bool
    coerce: Coerce | None = None  # LEAF
    exact: type | None = None  # LEAF: the Python type its values pass through unchanged
    finite_floats: bool = False  # LEAF: finite floats pass through unchanged (Float)
    object_type: GraphQLObjectType | None = None  # OBJECT
    item: Shape | None = None  # LIST

    def leaf(self, value: Any) -> Any:
        """A leaf value completed: as it is when it already is what the scalar returns
        (str for String and ID, bool, a finite float), else through `coerce`."""
        kind = type(value)
        # `value - value == 0.0` only for finite floats (inf - inf and nan are nan)
        if kind is self.exact or (self.finite_floats and kind is float and value - value == 0.0):
            return value
        assert self.coerce is not None
        return self.coerce(value)

    @property
    def delegates(self) -> bool:
        """Whether any level of this shape needs graphql-core's own completion."""
        if self.kind == DELEGATE:
            return True
        return self.item is not None and self.item.delegates


@dataclass(frozen=True, slots=True)
class Direct:
    """A resolver strawberry would call with nothing but the parent and `info`: called
    directly, without strawberry's per-call argument conversion and wrappers."""

    function: Callable[..., Any]
    takes_self: bool  # the parent goes first (a method)
    source_names: tuple[str, ...]  # keyword parameters that receive the parent (root, parent)
    info_name: str | None  # the keyword parameter that receives strawberry's Info


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """How to read and complete one schema field."""

    field_def: GraphQLField
    shape: Shape
    attribute: str | None  # the attribute (path) read of the parent: plain, from_record fields
    direct: Direct | None = None  # the resolver, when it can be called directly
    batch: BatchResolver | None = None  # answers for every parent at once (batch_resolvers)
    definition: Any = None  # the StrawberryField, which strawberry's Info carries


def shape_of(output: GraphQLOutputType) -> Shape:
    """The completion shape of a field type."""
    non_null = is_non_null_type(output)
    named = output.of_type if isinstance(output, GraphQLNonNull) else output
    if is_list_type(named):
        assert isinstance(named, GraphQLList)
        return Shape(LIST, non_null, item=shape_of(named.of_type))
    if is_leaf_type(named):
        assert isinstance(named, GraphQLLeafType)  # scalars and enums
        exact = _PASS_THROUGH.get(named.name)  # spec scalar names are reserved
        floats = named.name == "Float"
        coerce = leaf_coercer(named)
        if isinstance(named, GraphQLEnumType):
            coerce = by_member(coerce)
        return Shape(LEAF, non_null, coerce=coerce, exact=exact, finite_floats=floats)
    if is_object_type(named):
        assert isinstance(named, GraphQLObjectType)
        if named.is_type_of is None:
            return Shape(OBJECT, non_null, object_type=named)
    return Shape(DELEGATE, non_null)


def leaf_coercer(leaf: GraphQLLeafType) -> Coerce:
    """`leaf.coerce_output_value` with graphql-core's check that it returned a value."""
    coerce = leaf.coerce_output_value

    def complete(value: Any) -> Any:
        coerced = coerce(value)  # a custom scalar's serialize, an enum's name lookup
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(leaf)}.coerce_output_value({inspect(value)})`"
                f" to return non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    return complete


def by_member(coerce: Coerce) -> Coerce:
    """An enum's `coerce` asked once per member: strawberry's enum output scans the enum's
    values comparing each `.value` (1.3 % of the CPU of the peer's W2, for 71 statuses). A
    member is a singleton, so its name is kept by identity; other values are coerced as
    ever, and a value that fails is asked again next time."""
    names: dict[int, tuple[Enum, Any]] = {}

    def complete(value: Any) -> Any:
        if not isinstance(value, Enum):
            return coerce(value)
        known = names.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        name = coerce(value)
        names[id(value)] = (value, name)  # holds the member: its id is not reused
        return name

    return complete


# Built-in scalars whose values of these Python types are already their output.
_PASS_THROUGH: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}


def plain_attribute(field_def: GraphQLField) -> str | None:
    """The attribute strawberry's resolver would read for this field, when it does nothing
    else: a field without resolver, arguments, extensions or exception handlers."""
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False) or field_def.args:
        return None
    definition = field_def.extensions.get("strawberry-definition")
    if definition is None or not getattr(definition, "is_basic_field", False):
        return None
    if getattr(definition, "default_resolver", getattr) is not getattr:
        return None
    name = getattr(definition, "python_name", None)
    return name if isinstance(name, str) else None


def record_path(field_def: GraphQLField) -> str | None:
    """The attribute path a `record_fields.from_record` field reads (`record.number`), when
    strawberry would do nothing else around its resolver (no arguments, no extensions)."""
    definition = field_def.extensions.get("strawberry-definition")
    if definition is None or definition.extensions or field_def.args:
        return None
    return record_attribute(getattr(definition, "metadata", None))


def direct_call(field_def: GraphQLField) -> Direct | None:
    """How to call the field's resolver directly: a resolver with no GraphQL arguments, on a
    field without extensions, which strawberry would call as `f(parent, info=Info(...))`."""
    definition = field_def.extensions.get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    if resolver is None or definition is None or definition.extensions:
        return None
    if field_def.args or resolver.arguments:
        return None
    sources = (resolver.parent_parameter, resolver.root_parameter)
    info = resolver.info_parameter
    return Direct(
        function=resolver.wrapped_func,
        takes_self=resolver.self_parameter is not None,
        source_names=tuple(parameter.name for parameter in sources if parameter is not None),
        info_name=None if info is None else info.name,
    )


class Plans:
    """Field plans, built on first use and kept for the schema's lifetime."""

    def __init__(self) -> None:
        # keyed by identity: graphql-core's GraphQLField compares by value
        self._plans: dict[int, FieldPlan] = {}

    def field(
        self, parent_type: GraphQLObjectType, name: str, field_def: GraphQLField
    ) -> FieldPlan:
        plan = self._plans.get(id(field_def))
        if plan is None or plan.field_def is not field_def:
            plan = build_plan(parent_type, name, field_def)
            self._plans[id(field_def)] = plan
        return plan


def build_plan(parent_type: GraphQLObjectType, name: str, field_def: GraphQLField) -> FieldPlan:
    shape = shape_of(field_def.type)
    if shape.delegates:  # graphql-core completes the whole field, as it would
        shape = Shape(DELEGATE, shape.non_null)
    definition = field_def.extensions.get("strawberry-definition")
    return FieldPlan(
        field_def,
        shape,
        plain_attribute(field_def) or record_path(field_def),
        direct_call(field_def),
        batch_of(getattr(definition, "metadata", None)),  # declared on the field
        definition,
    )
