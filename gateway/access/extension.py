"""The strawberry extension that enforces the access policy on every operation.

In "hide" mode (the default) an authenticated caller's document is validated against the
schema it may see (`gateway.access.visibility`): a denied field or type is refused exactly
like one that does not exist. Before execution it has the request's one analysis
(`gateway.access.analysis.analyse_request`, a frozen `schema.analysis.RequestAnalysis` given
to the context): in "reject" mode any denied field refuses the operation (errors coded
OPERATION_FORBIDDEN, one per denied path: the app answers 403, see `is_operation_forbidden`);
in "null" mode (and for anonymous callers in "hide" mode) a denied field resolves to null
with a FORBIDDEN error at its path, naming the scopes that would allow it, without calling
its resolver. Allowed values then pass through masks, the row-rule re-check and the audit of
sensitive fields, each read from the analysis (nothing is decided again during execution).
Introspection is answered from the caller's visible schema, and validation suggestions are
scrubbed.

Example::

    schema = strawberry.Schema(query=Query, extensions=[access_extension(policy, audit=log)])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal

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

from gateway.access import Forbidden, row_visible
from gateway.access.analysis import SharedAnalyses, analyse_request
from gateway.access.audit import AuditLog
from gateway.access.policy import MASKS, Policy
from gateway.access.visibility import scrub_errors, validated_against, visible_schema
from schema.analysis import DENY, Denial, FieldDecision, RequestAnalysis
from schema.context import GatewayContext
from schema.principal import Principal

OPERATION_FORBIDDEN = "OPERATION_FORBIDDEN"
Mode = Literal["hide", "null", "reject"]
Info = GraphQLResolveInfo[Any]


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


def _then(value: Any, after: Callable[[Any], Any]) -> Any:
    if inspect.isawaitable(value):

        async def later() -> Any:
            return after(await value)

        return later()
    return after(value)


class AccessControl(SchemaExtension):
    """Applies one policy to each operation; build a configured subclass with `access_extension`.

    `on_execute` gets the request's `RequestAnalysis` (`analyse_request`, or the one the
    context already has for this very document: an export's pages) and every later step
    reads it: the field hook, the re-check of rows, masks and the audit.
    """

    policy: ClassVar[Policy]
    mode: ClassVar[Mode] = "hide"
    audit: ClassVar[AuditLog | None] = None
    shared: ClassVar[SharedAnalyses | None] = None  # repeated documents' walks (one per policy)
    _analysis: RequestAnalysis | None = None  # the operation's, once on_execute has it

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
        analysis = self._analysis = self._analysis_of(context)
        self._returned: set[str] = set()
        if analysis.denials and self.mode == "reject":
            ctx.result = GraphQLExecutionResult(None, [_refusal(d) for d in analysis.denials])
            if isinstance(context.response, Response):  # the HTTP status of the answer
                context.response.status_code = 403
        yield
        self._write_audit(context, analysis)

    def _analysis_of(self, context: GatewayContext) -> RequestAnalysis:
        """The context's analysis when it was made for this document, else a new one (given
        to the context, once: the loaders and `schema.selection` read it there)."""
        ctx = self.execution_context
        found = context.analysis
        if found is not None and self._serves(found, context):
            return found
        if ctx.graphql_document is None:  # nothing to walk: every field is denied
            made = RequestAnalysis(principal=context.principal, complete=False)
        elif self.shared is not None and ctx.query is not None:  # the text names the document
            made = self.shared.analyse(
                context.principal,
                self._schema(),
                ctx.graphql_document,
                query=ctx.query,
                operation_name=ctx.operation_name,
            )
        else:
            made = analyse_request(
                self.policy,
                context.principal,
                self._schema(),
                ctx.graphql_document,
                query=ctx.query,
                operation_name=ctx.operation_name,
            )
        context.analysed(made)
        return made

    def _serves(self, analysis: RequestAnalysis, context: GatewayContext) -> bool:
        """Whether `analysis` was made for this caller and this very document."""
        ctx = self.execution_context
        same_caller = analysis.principal == context.principal
        return same_caller and analysis.made_for(ctx.query, ctx.operation_name)

    def needs_field_hook(self) -> bool:
        """Asked by the schema once execution starts: False skips `resolve` for every field."""
        return self._analysis is None or not self._analysis.plain

    def needs_field_hook_at(self, parent: GraphQLObjectType, field_name: str) -> bool:
        """Asked by the batched executor per field, when `needs_field_hook` said yes: `resolve`
        only passes through fields that need no attention, so those may skip it."""
        return self._analysis is None or self._analysis.needs_hook(parent.name, field_name)

    def _context(self) -> GatewayContext:
        context = self.execution_context.context
        if not isinstance(context, GatewayContext):
            raise TypeError(
                "the access extension needs the gateway's context (schema.context."
                f"GatewayContext), not {type(context).__name__}"
            )
        return context

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: Info,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        analysis = self._analysis
        if analysis is None:  # no analysis, no field: on_execute did not run
            raise Forbidden(f"{info.parent_type.name}.{info.field_name}", DENY.required)
        if analysis.plain:  # decided for the whole operation before execution
            return _next(root, info, *args, **kwargs)
        verdict = analysis.decision(info.parent_type.name, info.field_name)
        coordinate = f"{info.parent_type.name}.{info.field_name}"
        if verdict.verdict == "deny":
            raise Forbidden(coordinate, verdict.required)
        if info.field_name == "__schema":
            return self._visible_to(analysis.principal)
        if info.field_name == "__type":
            return self._visible_to(analysis.principal).get_type(str(kwargs.get("name", "")))
        value = _next(root, info, *args, **kwargs)
        if self._needs_after(analysis, verdict, info, coordinate):
            return _then(value, lambda v: self._after(analysis, v, verdict, info, coordinate))
        return value

    def _schema(self) -> GraphQLSchema:
        return self.execution_context.schema._schema

    def _visible_to(self, p: Principal) -> GraphQLSchema:
        return visible_schema(self._schema(), self.policy, p.scopes, roles=p.roles)

    @staticmethod
    def _needs_after(
        analysis: RequestAnalysis, verdict: FieldDecision, info: Info, coord: str
    ) -> bool:
        target = get_named_type(info.return_type).name
        return (
            verdict.verdict == "mask" or target in analysis.row_filters or coord in analysis.audited
        )

    def _after(
        self, analysis: RequestAnalysis, value: Any, verdict: FieldDecision, info: Info, coord: str
    ) -> Any:
        if value is None:
            return None
        if verdict.mask is not None:
            mask = MASKS[verdict.mask]
            return [mask(v) for v in value] if isinstance(value, list) else mask(value)
        target = get_named_type(info.return_type).name
        filters = analysis.row_filters.get(target)
        if filters is not None:
            value = self._rows(value, filters)
        if coord in analysis.audited and value not in (None, []):
            self._returned.add(coord)
        return value

    @staticmethod
    def _rows(value: Any, filters: Mapping[str, str | None]) -> Any:
        """The row rule again, on what the resolver returned: defence in depth."""
        if isinstance(value, list):
            return [v for v in value if v is None or row_visible(filters, v)]
        return value if row_visible(filters, value) else None

    def _write_audit(self, context: GatewayContext, analysis: RequestAnalysis) -> None:
        ctx = self.execution_context
        fields = self._returned | context.disclosed
        if self.audit is None or not fields:
            return
        document = ctx.query or (print_ast(ctx.graphql_document) if ctx.graphql_document else "")
        self.audit.record(
            principal=analysis.principal,
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
        {"policy": policy, "mode": mode, "audit": audit, "shared": SharedAnalyses(policy)},
    )
