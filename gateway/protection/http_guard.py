"""HTTP guard for the GraphQL endpoint: body size, batch size, content type, CSRF.

A pure ASGI middleware that answers hostile requests before the GraphQL app reads them:

    413 REQUEST_TOO_LARGE   Content-Length or the streamed body (or the query string) over the
                            limit; the body is counted as it arrives, never buffered past it
    400 INVALID_JSON        a POST body that is not JSON (or is nested too deeply to decode);
                            `json_client_invalid_json_status` for clients accepting only
                            application/json (the spec allows 2xx-5xx; the gateway uses 400)
    400 BAD_REQUEST         a POST that also carries an operation in its URL (which one counts?)
    400 BAD_REQUEST         a body that is not a JSON object (or an array of them), or whose
                            `query`, `operationName`, `documentId` are not strings or whose
                            `variables`, `extensions` are not objects
    400 BATCH_TOO_LARGE     a JSON array of more than `max_batch` operations (0: no batching)
    400 CSRF_REJECTED       a request a browser could send cross-site without a CORS preflight
    415 UNSUPPORTED_MEDIA_TYPE  a POST that is not `application/json` in UTF-8

CSRF follows Apollo Server's prevention rule: an operation request must carry a content type
other than the three "simple" ones of the Fetch standard, or a non-empty
`apollo-require-preflight`, `x-apollo-operation-name` or `x-crossdock-csrf` header; browsers
preflight both, so a cross-site page cannot send them without CORS consent. A GET without
operation parameters (GraphiQL's page) is not an operation and passes. With
`csrf_credentialed_only` (the gateway's setting), so does a request without credentials (no
Authorization, no Cookie): it cannot act as anyone, and authentication answers it with 401.

Error bodies are GraphQL-shaped: {"errors": [{"message": ..., "extensions": {"code": ...}}]},
as `application/graphql-response+json` when the client accepts it, else `application/json`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
GRAPHQL_RESPONSE = "application/graphql-response+json"
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name", "x-crossdock-csrf")
_OPERATION_PARAMS = frozenset({"query", "documentId", "extensions"})


class RequestRefused(Exception):
    """A request the guard answers itself, with a status and a GraphQL-shaped error.

    `json_status` is the status for clients that accept only `application/json`, where the
    GraphQL-over-HTTP spec keeps 200 for some request errors (the graphql-http audit D477).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        json_status: int | None = None,
        headers: dict[str, str] | None = None,
        **ext: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extensions = status, code, message, ext
        self.json_status = status if json_status is None else json_status
        self.headers = dict(headers or {})

    def body(self) -> bytes:
        error = {"message": self.message, "extensions": {"code": self.code, **self.extensions}}
        return json.dumps({"errors": [error]}).encode()


class _Disconnected(Exception):
    """The client went away mid-body: there is no one to answer."""


class HttpGuard:
    """Refuses oversized, malformed, batched-too-far and cross-site requests to `path`.

    app = HttpGuard(graphql_app, max_body_bytes=1_000_000, max_batch=10, csrf=True)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_batch: int,
        csrf: bool = True,
        path: str = "/graphql",
        content_types: frozenset[str] = frozenset({"application/json"}),
        json_client_invalid_json_status: int = 200,
        csrf_credentialed_only: bool = False,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_batch = max_batch
        self.csrf = csrf
        self.path = path.rstrip("/") or "/"
        self.content_types = content_types
        self.json_client_invalid_json_status = json_client_invalid_json_status
        self.csrf_credentialed_only = csrf_credentialed_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._guards(scope):
            await self.app(scope, receive, send)
            return
        try:
            receive = await self._check(scope, receive)
        except RequestRefused as refusal:
            await send_refusal(refusal, Headers(scope=scope), send)
            return
        except _Disconnected:
            return
        await self.app(scope, receive, send)

    def _guards(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST"):
            return False
        return bool((scope["path"].rstrip("/") or "/") == self.path)

    async def _check(self, scope: Scope, receive: Receive) -> Receive:
        headers = Headers(scope=scope)
        query_string: bytes = scope.get("query_string", b"")
        if len(query_string) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes, len(query_string), "query string")
        if scope["method"] == "GET":
            if self.csrf and _has_operation(query_string) and self._cross_site_risk(headers):
                raise _csrf_rejected(get=True)
            return receive
        if self.csrf and self._cross_site_risk(headers):
            raise _csrf_rejected()
        if _has_operation(query_string):
            raise RequestRefused(
                400,
                "BAD_REQUEST",
                "A POST carries its operation in the body only; remove the URL parameters "
                "(or send the operation as a GET).",
            )
        media_type = _media_type(headers)
        if media_type not in self.content_types or not _utf8(headers):
            content_type = headers.get("content-type", "(none)")
            raise RequestRefused(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content-Type {content_type!r} is not accepted; "
                "send the request as application/json in UTF-8.",
            )
        body = await self._read_body(headers, receive)
        self._check_json(body)
        return _replay(body, receive)

    def _cross_site_risk(self, headers: Headers) -> bool:
        """A request a browser could send cross-site without a preflight (with credentials)."""
        if _preflighted(headers):
            return False
        return not self.csrf_credentialed_only or _has_credentials(headers)

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        declared = headers.get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):  # "²".isdigit(), int("²") fails
                raise RequestRefused(400, "BAD_REQUEST", "Content-Length is not a number.")
            if int(declared) > self.max_body_bytes:
                raise _too_large(self.max_body_bytes, int(declared), "body")
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _too_large(self.max_body_bytes, size, "body", at_least=True)
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _check_json(self, body: bytes) -> None:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise RequestRefused(
                400,
                "INVALID_JSON",
                "The request body is not valid JSON (or is nested too deeply).",
                json_status=self.json_client_invalid_json_status,
            ) from None
        if not isinstance(payload, list):
            _check_shape(payload)
            return
        if self.max_batch <= 0:
            raise RequestRefused(
                400,
                "BATCH_TOO_LARGE",
                "Batched requests are not accepted; send one operation per request.",
                limit=0,
                measured=len(payload),
            )
        if len(payload) > self.max_batch:
            raise RequestRefused(
                400,
                "BATCH_TOO_LARGE",
                f"The batch holds {len(payload)} operations, over the limit of {self.max_batch}.",
                limit=self.max_batch,
                measured=len(payload),
            )
        for item in payload:
            _check_shape(item)


# The GraphQL-over-HTTP request parameters and the JSON types they must have.
_PARAMETERS: dict[str, tuple[type, str]] = {
    "query": (str, "a string"),
    "operationName": (str, "a string"),
    "variables": (dict, "an object"),
    "extensions": (dict, "an object"),
    "documentId": (str, "a string"),
}


def _check_shape(payload: object) -> None:
    """A request is a JSON object whose parameters have their types (or are null)."""
    if not isinstance(payload, dict):
        raise RequestRefused(
            400,
            "BAD_REQUEST",
            f"The request body is a JSON {_json_type(payload)}; send an object such as "
            '{"query": "{ viewer { subject } }"}.',
        )
    for name, (kind, described) in _PARAMETERS.items():
        value = payload.get(name)
        if value is not None and not isinstance(value, kind):
            raise RequestRefused(
                400,
                "BAD_REQUEST",
                f"`{name}` must be {described} or null, not a JSON {_json_type(value)}.",
            )


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return "null" if value is None else names.get(type(value), "object")


def _too_large(limit: int, measured: int, what: str, *, at_least: bool = False) -> RequestRefused:
    amount = f"more than {limit}" if at_least else str(measured)
    return RequestRefused(
        413,
        "REQUEST_TOO_LARGE",
        f"The request {what} is {amount} bytes, over the limit of {limit} bytes.",
        limit=limit,
        measured=measured,
    )


def _csrf_rejected(*, get: bool = False) -> RequestRefused:
    """The refusal, naming the header to add (a GET has no content type to change)."""
    fix = (
        "Add a non-empty 'x-crossdock-csrf' (or 'apollo-require-preflight') header to GET "
        "requests, e.g. 'x-crossdock-csrf: 1'."
        if get
        else "Send it with 'Content-Type: application/json' or a non-empty "
        "'x-crossdock-csrf' (or 'apollo-require-preflight') header."
    )
    return RequestRefused(
        400,
        "CSRF_REJECTED",
        "This request could have been sent cross-site by a browser without a preflight. " + fix,
    )


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _utf8(headers: Headers) -> bool:
    """JSON requests are UTF-8 (RFC 8259); any other declared charset is refused."""
    for parameter in headers.get("content-type", "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() in ("utf-8", "utf8")
    return True


def _preflighted(headers: Headers) -> bool:
    media_type = _media_type(headers)
    if media_type and media_type not in SIMPLE_CONTENT_TYPES:
        return True
    return any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)


def _has_credentials(headers: Headers) -> bool:
    return "authorization" in headers or "cookie" in headers


def _has_operation(query_string: bytes) -> bool:
    params = parse_qs(query_string.decode("latin-1"), keep_blank_values=True)
    return not _OPERATION_PARAMS.isdisjoint(params)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def accepts_graphql_response(accept: str) -> bool:
    """True when the Accept header lists application/graphql-response+json (q > 0)."""
    for item in accept.split(","):
        media_type, *params = (part.strip().lower() for part in item.split(";"))
        if media_type != GRAPHQL_RESPONSE:
            continue
        return not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
    return False


def refusal_response(refusal: RequestRefused) -> Response:
    """The refusal as an application/json response with its status (routes other than /graphql)."""
    return Response(refusal.body(), refusal.status, refusal.headers, media_type="application/json")


async def send_refusal(refusal: RequestRefused, request_headers: Headers, send: Send) -> None:
    """Answer with the refusal's GraphQL-shaped body, negotiated as GraphQL-over-HTTP says."""
    # Clients that accept application/graphql-response+json get it, with the real status;
    # the others (legacy, */*, no Accept) get application/json (GraphQL-over-HTTP §6.4).
    if accepts_graphql_response(request_headers.get("accept", "")):
        media_type, status = GRAPHQL_RESPONSE, refusal.status
    else:
        media_type, status = "application/json", refusal.json_status
    body = refusal.body()
    headers = [
        (b"content-type", f"{media_type}; charset=utf-8".encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode("latin-1")) for k, v in refusal.headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
