"""The strawberry extension that enforces the access policy on every operation.

In "hide" mode (the default) an authenticated caller's document is validated against the
schema it may see (`gateway.access.visibility`): a denied field or type is refused exactly like one
that does not exist. Before execution it analyses the whole operation (`gateway.access.analyse`):
in "reject" mode any denied field refuses the operation (errors coded OPERATION_FORBIDDEN, one
per denied path: the app answers 403, see `is_operation_forbidden`); in "null" mode (and for
anonymous callers in "hide" mode) a denied field resolves to null with a FORBIDDEN error at
its path, naming the scopes that would allow it, without calling its resolver. Allowed values
then pass through masks, the row-rule re-check and the audit of sensitive fields.
Introspection is answered from the caller's visible schema, and validation suggestions are
scrubbed.

Example::

    schema = strawberry.Schema(query=Query, extensions=[access_extension(policy, audit=log)])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    get_named_type,
    print_ast,
)
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from gateway.access import (
    INTROSPECTION_ROOTS,
    Decider,
    Denial,
    FieldDecision,
    Forbidden,
    analyse_operation,
    row_visible,
)
from gateway.access.audit import AuditLog
from gateway.access.policy import MASKS, Policy
from gateway.access.visibility import scrub_errors, validated_against, visible_schema
from schema.context import Access, RowFilters
from schema.principal import Principal

OPERATION_FORBIDDEN = "OPERATION_FORBIDDEN"
Mode = Literal["hide", "null", "reject"]
Info = GraphQLResolveInfo[Any]


@runtime_checkable
class AccessContext(Protocol):
    """What the extension reads and writes on a request's context (`schema.context.
    GatewayContext` has it): the caller, the request's `Access` (row filters set when the
    context was built; the operation's part set here, once, before execution), and the
    coordinates resolvers report as disclosed (audited with the rest)."""

    principal: Principal
    access: Access
    disclosed: set[str]


def is_operation_forbidden(errors: Any) -> bool:
    """True when a result's errors say the whole operation was refused (answer HTTP 403)."""
    for error in errors or ():
        extensions = getattr(error, "extensions", None) or {}
        if isinstance(error, Mapping):
            extensions = error.get("extensions") or {}
        if extensions.get("code") == OPERATION_FORBIDDEN:
            return True
    return False


def _refusal(denial: Denial) -> GraphQLError:
    return GraphQLError(
        f"Operation refused: not allowed to read {denial.coordinate}.",
        path=list(denial.path),
        extensions={"code": OPERATION_FORBIDDEN, "requiredScopes": denial.required.as_lists()},
    )


def _set_status(context: AccessContext, status: int) -> None:
    """Strawberry's sub-response (context.response) carries the HTTP status of the answer."""
    response = getattr(context, "response", None)  # absent outside HTTP (tests, exports)
    if isinstance(response, Response):
        response.status_code = status


def _then(value: Any, after: Callable[[Any], Any]) -> Any:
    if inspect.isawaitable(value):

        async def later() -> Any:
            return after(await value)

        return later()
    return after(value)


class AccessControl(SchemaExtension):
    """Applies one policy to each operation; build a configured subclass with `access_extension`."""

    policy: ClassVar[Policy]
    mode: ClassVar[Mode] = "hide"
    audit: ClassVar[AuditLog | None] = None
    _access: Access = Access()  # the request's, once the operation is analysed

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        p = self._context().principal
        if self.mode == "hide" and p.authenticated:  # validated as if the rest did not exist
            ctx.validation_rules = (validated_against(self._visible_to(p), ctx.validation_rules),)
        yield
        errors = ctx.pre_execution_errors
        if errors:
            errors[:] = scrub_errors(errors, self._visible_to(p))

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        context = self._context()
        self._principal = context.principal
        self._decider = Decider(self.policy, self._principal, self._schema())
        self._filters: RowFilters = context.access.row_filters  # the caller's, computed once
        self._returned: set[str] = set()
        if ctx.graphql_document is not None:
            analysis = analyse_operation(ctx.graphql_document, self._decider, ctx.operation_name)
            denials = analysis.denials
            context.access = replace(
                context.access,
                denied=frozenset(d.coordinate for d in denials),
                attention=frozenset(
                    f"{parent.name}.{name}"
                    for parent, name in analysis.reached
                    if self._attention(parent, name)
                ),
                complete=analysis.complete,
            )
            if denials and self.mode == "reject":
                ctx.result = GraphQLExecutionResult(None, [_refusal(d) for d in denials])
                _set_status(context, 403)
        self._access = context.access
        yield
        self._write_audit(context)

    def needs_field_hook(self) -> bool:
        """Asked by the schema once execution starts: False skips `resolve` for every field."""
        return not (self._access.complete and not self._access.attention)

    def needs_field_hook_at(self, parent: GraphQLObjectType, field_name: str) -> bool:
        """Asked by the batched executor per field, when `needs_field_hook` said yes: `resolve`
        only passes through fields that need no attention, so those may skip it."""
        access = self._access
        return not access.complete or f"{parent.name}.{field_name}" in access.attention

    def _context(self) -> AccessContext:
        context = self.execution_context.context
        if not isinstance(context, AccessContext):
            raise TypeError(
                "the access extension needs a context with principal, access and disclosed "
                f"(schema.context.GatewayContext), not {type(context).__name__}"
            )
        return context

    def _attention(self, parent: GraphQLObjectType, field_name: str) -> bool:
        """Whether `parent.field` needs the hook: denied, masked, row-filtered, audited, meta."""
        if field_name in INTROSPECTION_ROOTS or field_name.startswith("__"):
            return field_name != "__typename"
        if self._decider.decide(parent, field_name).verdict != "allow":
            return True
        gql_field = parent.fields.get(field_name)
        if gql_field is None:
            return True
        target = get_named_type(gql_field.type).name
        coordinate = f"{parent.name}.{field_name}"
        return target in self._filters or coordinate in self.policy.audit_fields

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: Info,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if not self.needs_field_hook():  # decided for the whole operation before execution
            return _next(root, info, *args, **kwargs)
        verdict = self._decider.decide(info.parent_type, info.field_name)
        coordinate = f"{info.parent_type.name}.{info.field_name}"
        if verdict.verdict == "deny":
            raise Forbidden(coordinate, verdict.required)
        if info.field_name == "__schema":
            return self._visible()
        if info.field_name == "__type":
            return self._visible().get_type(str(kwargs.get("name", "")))
        value = _next(root, info, *args, **kwargs)
        if self._needs_after(verdict, info, coordinate):
            return _then(value, lambda v: self._after(v, verdict, info, coordinate))
        return value

    def _schema(self) -> GraphQLSchema:
        return self.execution_context.schema._schema

    def _visible(self) -> GraphQLSchema:
        return self._visible_to(self._principal)

    def _visible_to(self, p: Principal) -> GraphQLSchema:
        return visible_schema(self._schema(), self.policy, p.scopes, roles=p.roles)

    def _needs_after(self, verdict: FieldDecision, info: Info, coord: str) -> bool:
        target = get_named_type(info.return_type).name
        return (
            verdict.verdict == "mask"
            or target in self._filters
            or coord in self.policy.audit_fields
        )

    def _after(self, value: Any, verdict: FieldDecision, info: Info, coord: str) -> Any:
        if value is None:
            return None
        if verdict.mask is not None:
            mask = MASKS[verdict.mask]
            return [mask(v) for v in value] if isinstance(value, list) else mask(value)
        target = get_named_type(info.return_type).name
        if target in self._filters:
            value = self._rows(value, self._filters[target])
        if coord in self.policy.audit_fields and value not in (None, []):
            self._returned.add(coord)
        return value

    @staticmethod
    def _rows(value: Any, filters: Mapping[str, str | None]) -> Any:
        """The row rule again, on what the resolver returned: defence in depth."""
        if isinstance(value, list):
            return [v for v in value if v is None or row_visible(filters, v)]
        return value if row_visible(filters, value) else None

    def _write_audit(self, context: AccessContext) -> None:
        ctx = self.execution_context
        fields = self._returned | context.disclosed
        if self.audit is None or not fields:
            return
        document = ctx.query or (print_ast(ctx.graphql_document) if ctx.graphql_document else "")
        self.audit.record(
            principal=self._principal,
            operation_name=ctx.operation_name,
            document=document,
            fields=fields,
        )


def access_extension(
    policy: Policy, *, mode: Mode = "hide", audit: AuditLog | None = None
) -> type[SchemaExtension]:
    """A SchemaExtension class enforcing `policy`; pass it in `Schema(extensions=[...])`."""
    return type(
        "ConfiguredAccessControl",
        (AccessControl,),
        {"policy": policy, "mode": mode, "audit": audit},
    )
