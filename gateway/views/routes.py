"""HTTP surface of the views: `GET /views`, `GET /views/{name}` (its typed columns) and
`GET /views/{name}.csv|.ndjson|.parquet` (Bearer auth).

    routes = view_routes(schema, context_factory, load_views(None), policy=policy)
    app = create_app(settings, crm=crm, scm=scm, routes=routes, ...)

`context_factory(request)` must build the context exactly as `/graphql` does (authenticate,
rate limit, row rules); it runs once per export, and `renew` gives each further page a copy
with fresh loaders (`fresh_context`).
Everything that can be checked is checked before the first byte: the view, the format, the
parameters, the caller's columns and the first page. After that the status is sent, so a
failure aborts the transfer: the response ends without its last chunk and the server closes
the connection, so every HTTP client reports an incomplete body (curl: exit 18; Python:
IncompleteRead / RemoteProtocolError) instead of loading a file that looks whole.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Send

from gateway.access.policy import Policy
from gateway.auth import AuthError, unauthorized_response
from gateway.protection.http_guard import RequestRefused
from gateway.views.columns import ColumnType, column_types
from gateway.views.encode import MEDIA_TYPES, Encoder, Formulas, RowWriter, encoders
from gateway.views.export import Export, ExportFailed, fresh_context, watermark_now
from gateway.views.model import View, ViewCatalog
from gateway.views.params import ExportParams, parse_params
from gateway.views.plan import ViewPlan, plan_view
from gateway.views.validate import is_incremental
from resolvers.errors import CrossdockError, InvalidInput
from schema.context import ExportContext, GatewayContext

logger = logging.getLogger("crossdock.views")
RequestContextFactory = Callable[[Request], Awaitable[GatewayContext]]
OMITTED_HEADER = "Crossdock-Omitted-Columns"
WATERMARK_HEADER = "Crossdock-Watermark"
# (view, format, outcome "complete" | "aborted", rows sent, bytes sent)
ExportObserver = Callable[[str, str, str, int, int], None]


@dataclass(frozen=True)
class ViewOptions:
    """How exports behave.

    `denied_columns`: "omit" drops unreadable columns (named in a header); "error" is 403.
    `csv_formulas`: "escape" prefixes text cells a spreadsheet would run with `'`; "keep"
    sends them as they are (see `gateway.views.encode`).
    `watermark_overlap_s`: the watermark is the export's start minus this many seconds, a
    margin for backend clocks running behind the gateway's (more rows come twice, none lost).
    `on_export`: told of each export that sent its status, when it ends (the metrics).
    """

    denied_columns: Literal["omit", "error"] = "omit"
    csv_formulas: Formulas = "escape"
    watermark_overlap_s: int = 0
    on_export: ExportObserver | None = None

    def __post_init__(self) -> None:
        if self.watermark_overlap_s < 0:
            raise ValueError("watermark_overlap_s must be >= 0")


def error_response(status: int, code: str, message: str, **extensions: Any) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, status_code=status)


class ViewEndpoints:
    """The two endpoints over one schema, one catalog and one access policy."""

    def __init__(
        self,
        schema: strawberry.Schema,
        contexts: RequestContextFactory,
        catalog: ViewCatalog,
        *,
        policy: Policy | None = None,
        options: ViewOptions = ViewOptions(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        renew: Callable[[GatewayContext], ExportContext] = fresh_context,
    ) -> None:
        self.schema = schema
        self.renew = renew
        self.contexts = contexts
        self.catalog = catalog
        self.policy = policy
        self.options = options
        self.encoders = encoders(options.csv_formulas)
        overlap = timedelta(seconds=options.watermark_overlap_s)
        self.clock = lambda: clock() - overlap
        self.incremental = {view.name: is_incremental(view) for view in catalog}
        self.types = {view.name: column_types(view, schema._schema) for view in catalog}

    def _plans(self, context: GatewayContext) -> dict[str, ViewPlan]:
        plans = (self._plan(context, view) for view in self.catalog)
        return {plan.view.name: plan for plan in plans if plan is not None}

    def _plan(self, context: GatewayContext, view: View | None) -> ViewPlan | None:
        """The caller's plan of one view (its one analysis), None if unknown or unreadable."""
        if view is None:
            return None
        return plan_view(view, self.schema._schema, context.principal, self.policy)

    def _describe(self, plan: ViewPlan) -> dict[str, Any]:
        view = plan.view
        return {
            "name": view.name,
            "description": view.description,
            "columns": list(plan.column_names),
            "omittedColumns": [c.name for c in plan.omitted],
            "formats": sorted(self.encoders),
            "incremental": self.incremental[view.name],
            "links": {fmt: f"/views/{view.name}.{fmt}" for fmt in sorted(self.encoders)},
        }

    async def _context(self, request: Request) -> GatewayContext | Response:
        """The request's context, or the refusal (401, 429) to answer instead."""
        try:
            context = await self.contexts(request)
            if self.policy is not None and not context.principal.authenticated:
                raise AuthError("missing bearer token")
        except AuthError as err:
            return unauthorized_response(err)
        except RequestRefused as refusal:
            return Response(
                refusal.body(), refusal.status, refusal.headers, media_type="application/json"
            )
        return context

    def _columns(self, plan: ViewPlan) -> list[ColumnType]:
        types = self.types[plan.view.name]
        return [types[name] for name in plan.column_names]

    async def list_views(self, request: Request) -> Response:
        context = await self._context(request)
        if isinstance(context, Response):
            return context
        plans = self._plans(context)
        return JSONResponse({"views": [self._describe(p) for p in plans.values()]})

    async def export(self, request: Request) -> Response:
        context = await self._context(request)
        if isinstance(context, Response):
            return context
        name, _, extension = str(request.path_params["file"]).partition(".")
        plan = self._plan(context, self.catalog.get(name))
        if plan is None:  # unreadable views are not named, like unknown ones
            readable = sorted(self._plans(context))
            message = f"No view {name[:64]!r}. Views you may read: {', '.join(readable) or 'none'}."
            return error_response(404, "NOT_FOUND", message, views=readable)
        accept = request.headers.get("accept", "")
        if not extension and self._describes(accept):
            return JSONResponse(
                {**self._describe(plan), "columns": [c.describe() for c in self._columns(plan)]}
            )
        encoder = self._encoder(extension, accept)
        if encoder is None:
            formats = sorted(self.encoders)
            message = f"Format {extension[:16]!r} is not offered; use .{' or .'.join(formats)}."
            return error_response(406, "NOT_ACCEPTABLE", message, formats=formats)
        try:
            params = self._params(request, plan.view)
        except InvalidInput as err:
            return error_response(400, err.code, err.message, **err.extensions)
        if plan.omitted and self.options.denied_columns == "error":
            return self._denied(plan)
        return await self._stream(context, plan, encoder, params)

    @staticmethod
    def _wanted(accept: str) -> list[str]:
        return [part.split(";")[0].strip().lower() for part in accept.split(",")]

    def _describes(self, accept: str) -> bool:
        """`GET /views/{name}` describes the view unless Accept asks for an export format."""
        wanted = self._wanted(accept)
        return not any(m in MEDIA_TYPES for m in wanted) and (
            not accept.strip() or any(m in ("application/json", "*/*") for m in wanted)
        )

    def _encoder(self, extension: str, accept: str) -> Encoder | None:
        if extension:
            return self.encoders.get(extension.lower())
        wanted = self._wanted(accept)
        return next((self.encoders[MEDIA_TYPES[m]] for m in wanted if m in MEDIA_TYPES), None)

    def _params(self, request: Request, view: View) -> ExportParams:
        params = parse_params(request.query_params)
        if params.updated_since is not None and not self.incremental[view.name]:
            raise InvalidInput(
                f"updated_since: view {view.name!r} is not incremental", argument="updated_since"
            )
        return params

    @staticmethod
    def _denied(plan: ViewPlan) -> Response:
        names = [c.name for c in plan.omitted]
        scopes = sorted({s for d in plan.denials for alt in d.required.as_lists() for s in alt})
        message = f"Not allowed to read column(s) {', '.join(names)} of view {plan.view.name!r}."
        return error_response(403, "FORBIDDEN", message, columns=names, scopes=scopes)

    async def _stream(
        self, context: GatewayContext, plan: ViewPlan, encoder: Encoder, params: ExportParams
    ) -> Response:
        watermark = watermark_now(self.clock)
        if plan.analysis is not None:  # the plan's analysis: the export's, for every page
            context.analysed(plan.analysis)

        async def contexts() -> ExportContext:
            return self.renew(context)

        export = Export(self.schema, plan, contexts, params.updated_since, params.limit)
        try:
            first = await export.first()
        except ExportFailed as err:
            return error_response(err.status, err.code, err.message)
        stamp = watermark.replace("-", "").replace(":", "")
        filename = f"{plan.view.name}-{stamp}.{encoder.extension}"
        headers = {
            "Content-Disposition": f'attachment; filename="{filename}"',
            WATERMARK_HEADER: watermark,
            "Cache-Control": "no-store",
        }
        if plan.omitted:
            headers[OMITTED_HEADER] = ", ".join(c.name for c in plan.omitted)
        body = _body(export, first, encoder.writer(self._columns(plan)))
        if self.options.on_export is not None:
            body = _counted(body, export, encoder.extension, self.options.on_export)
        return AbortableStream(body, media_type=encoder.media_type, headers=headers)


class ExportAborted(Exception):
    """The export failed after its status was sent: the transfer must end incomplete."""


class AbortableStream(StreamingResponse):
    """A streamed response whose body may abort: on ExportAborted the final (empty) chunk is
    never sent, so the server closes the connection mid-body and the client sees a truncated
    transfer, never a complete file (uvicorn logs "ASGI callable returned without completing
    response" beside the gateway's own warning)."""

    async def stream_response(self, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        try:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except ExportAborted:
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _body(export: Export, first: list[Any], writer: RowWriter) -> AsyncIterator[bytes]:
    """The export's bytes; on a failure after the status, a logged ExportAborted."""
    name = export.plan.view.name
    try:
        yield writer.write(first)
        async for rows in export.rest():
            chunk = writer.write(rows)
            if chunk:
                yield chunk
        last = writer.close()
    except CrossdockError as err:  # ExportFailed included
        logger.warning(
            "view export %s aborted after %d rows: %s: %s",
            name,
            export.emitted,
            err.code,
            err.message,
        )
        raise ExportAborted(err.code) from None
    except Exception:
        logger.exception("view export %s failed mid-stream after %d rows", name, export.emitted)
        raise ExportAborted("INTERNAL_SERVER_ERROR") from None
    if last:
        yield last
    logger.info("view export %s complete: %d rows", name, export.emitted)


async def _counted(
    body: AsyncIterator[bytes], export: Export, fmt: str, observe: ExportObserver
) -> AsyncIterator[bytes]:
    """`body`, its rows and bytes told to `observe` when it ends (complete, aborted, or the
    client gone)."""
    sent, outcome = 0, "aborted"
    try:
        async for chunk in body:
            sent += len(chunk)
            yield chunk
        outcome = "complete"
    finally:
        observe(export.plan.view.name, fmt, outcome, export.emitted, sent)


def view_routes(
    schema: strawberry.Schema,
    context_factory: RequestContextFactory,
    views: ViewCatalog,
    *,
    policy: Policy | None = None,
    options: ViewOptions = ViewOptions(),
) -> list[Route]:
    """`GET /views`, `GET /views/{name}` and `GET /views/{name}.{csv|ndjson|parquet}`."""
    endpoints = ViewEndpoints(schema, context_factory, views, policy=policy, options=options)
    return [
        Route("/views", endpoints.list_views, methods=["GET"]),
        Route("/views/{file}", endpoints.export, methods=["GET"]),
    ]
