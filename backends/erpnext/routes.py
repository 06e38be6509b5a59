"""HTTP surface of the emulated ERPNext: Frappe's `/api/resource` routes, RPC methods and auth.

`/api/method/frappe.client.get_list` is the RPC form of a listing. In Frappe it is what
`GET /api/resource/{DocType}` calls underneath (frappe/api/v1.py `document_list` ends in
`frappe.call(frappe.client.get_list, doctype, **frappe.form_dict)`), so both answer the same
rows, errors and permissions; the method takes its arguments from the query (GET) or from a
JSON or form body (POST) — `doctype, fields, filters, or_filters, order_by, limit_start,
limit_page_length=20, parent` (frappe/client.py `get_list`; a child table needs `parent`,
checked by `check_parent_permission`) — and answers `{"message": [rows]}`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import query
from .documents import Documents
from .errors import FrappeError, error_response, server_messages, status_error
from .store import ErpStore
from .values import loads
from .webhooks import Webhooks

logger = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


class Api:
    """The endpoints, bound to one store and one API key pair."""

    def __init__(
        self,
        store: ErpStore,
        *,
        api_key: str,
        api_secret: str,
        company: str,
        webhooks: Webhooks | None = None,
    ) -> None:
        self.store = store
        self.company = company
        self.webhooks = webhooks
        self._credentials = f"{api_key}:{api_secret}"

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for base in ("/api/resource", "/api/v1/resource"):
            one = base + "/{doctype}/{name:path}"
            routes += [
                Route(base + "/{doctype}", self._guard(self.list_docs), methods=["GET"]),
                Route(base + "/{doctype}", self._guard(self.create_doc), methods=["POST"]),
                Route(one, self._guard(self.get_doc), methods=["GET"]),
                Route(one, self._guard(self.put_doc), methods=["PUT"]),
                Route(one, self._guard(self.delete_doc), methods=["DELETE"]),
            ]
        method = "/api/method/frappe."
        routes += [
            Route(method + "auth.get_logged_user", self._guard(self.logged_user)),
            Route(method + "client.get_list", self._guard(self.get_list), methods=["GET", "POST"]),
            Route(method + "client.submit", self._guard(self.submit), methods=["POST"]),
            Route(method + "client.cancel", self._guard(self.cancel), methods=["POST"]),
        ]
        routes.append(Route("/{path:path}", self._guard(self.unknown), methods=_ALL))
        return routes

    def _guard(self, endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            try:
                if request.url.path.startswith("/api/"):
                    self._authenticate(request.headers.get("authorization", ""))
                return await endpoint(request)
            except FrappeError as error:
                accept = request.headers.get("accept", "")
                return error_response(error, path=request.url.path, accept=accept)
            except Exception:  # a bug here: Frappe's 500 body, no traceback to the client
                logger.exception("unexpected error serving %s", request.url.path)
                return status_error(500)

        return guarded

    def _authenticate(self, header: str) -> None:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                value = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                value = ""
        if scheme not in ("token", "basic", "bearer") or not hmac.compare_digest(
            value.strip().encode(), self._credentials.encode()
        ):
            raise FrappeError("AuthenticationError", "Invalid login credentials")

    def _documents(self) -> Documents:
        return Documents(self.store, company=self.company)

    def _published(self, docs: Documents, since: str) -> None:
        """After a write committed: its document events go to the webhooks (background)."""
        if self.webhooks is not None:
            self.webhooks.publish(docs.ctx.events, docs.ctx.trashed, since=since)

    async def list_docs(self, request: Request) -> Response:
        docs = self._documents()
        return _reply(docs.list(request.path_params["doctype"], request.query_params), docs)

    async def get_doc(self, request: Request) -> Response:
        docs = self._documents()
        return _reply(docs.get(request.path_params["doctype"], request.path_params["name"]), docs)

    async def create_doc(self, request: Request) -> Response:
        docs = self._documents()
        body = await _body(request)
        since = self.store.last_stamp()
        created = docs.create(request.path_params["doctype"], body)
        self._published(docs, since)
        return _reply(created, docs)

    async def put_doc(self, request: Request) -> Response:
        docs = self._documents()
        body = await _body(request)
        doctype, name = request.path_params["doctype"], request.path_params["name"]
        since = self.store.last_stamp()
        updated = docs.update(doctype, name, body)
        self._published(docs, since)
        return _reply(updated, docs)

    async def delete_doc(self, request: Request) -> Response:
        docs = self._documents()
        since = self.store.last_stamp()
        docs.delete(request.path_params["doctype"], request.path_params["name"])
        self._published(docs, since)
        return JSONResponse({"data": "ok"}, status_code=202)

    async def get_list(self, request: Request) -> Response:
        """`frappe.client.get_list(doctype, ...)`: the listing of GET /api/resource/{doctype}."""
        kwargs = dict(request.query_params) if request.method == "GET" else await _body(request)
        doctype = _arg(kwargs, "doctype")
        if not isinstance(doctype, str):
            raise FrappeError("ValidationError", f"doctype must be a DocType name, not {doctype!r}")
        docs = self._documents()
        return _reply(docs.list(doctype, query.method_args(kwargs)), docs, key="message")

    async def submit(self, request: Request) -> Response:
        """`frappe.client.submit(doc)`: `doc` is the document (a JSON object or string)."""
        doc = _arg(await _body(request), "doc")
        if isinstance(doc, str):
            doc = _json_object(doc)
        if not isinstance(doc, dict):
            raise FrappeError("ValidationError", "doc must be a document object")
        doctype, name = _arg(doc, "doctype"), _arg(doc, "name")
        docs = self._documents()
        since = self.store.last_stamp()
        submitted = docs.update(str(doctype), str(name), {**doc, "docstatus": 1})
        self._published(docs, since)
        return JSONResponse({"message": submitted})

    async def cancel(self, request: Request) -> Response:
        """`frappe.client.cancel(doctype, name)`: answers `{}` like a method returning None."""
        body = await _body(request)
        doctype, name = str(_arg(body, "doctype")), str(_arg(body, "name"))
        docs = self._documents()
        since = self.store.last_stamp()
        docs.update(doctype, name, {"docstatus": 2})
        self._published(docs, since)
        return JSONResponse({})

    async def logged_user(self, request: Request) -> Response:
        return JSONResponse({"message": "Administrator"})

    async def unknown(self, request: Request) -> Response:
        raise FrappeError("DoesNotExistError", f"Page {request.url.path} not found")


_ALL = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def _reply(data: Any, docs: Documents, *, key: str = "data") -> Response:
    """`{"data": ...}` from /api/resource, `{"message": ...}` from /api/method."""
    body: dict[str, Any] = {key: data}
    if docs.messages:
        body["_server_messages"] = server_messages(docs.messages)
    return JSONResponse(body)


def _arg(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        raise FrappeError("ValidationError", f"Missing argument: {key}")
    return body[key]


async def _body(request: Request) -> dict[str, Any]:
    """A JSON object body, or a form: its `data` field holding one, or plain fields."""
    raw = await request.body()
    text = raw.decode("utf-8", errors="replace").strip()
    if text and text[0] not in "{[":
        form = {k: v[0] for k, v in urllib.parse.parse_qs(text).items()}
        if "data" not in form and form:
            return form
        text = form.get("data", "")
    return _json_object(text)


def _json_object(text: str) -> dict[str, Any]:
    try:
        body = loads(text) if text else {}
    except ValueError:
        raise FrappeError("ValidationError", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise FrappeError("ValidationError", "The request body must be a JSON object of fields")
    return body
