"""The Frappe REST wire: auth header, list paging, `in` batching and error envelopes (§B).

Knows what a connector must not assume (§D.3): lists have no total (keep paging while a page
is full), the default page is 20 (so `limit_page_length` is always explicit), names are
free-form strings with spaces (quoted into paths), and errors carry a doubly encoded
`_server_messages` (decoded into the message here).

A list call whose query would be long (a big `in` batch) goes as `POST /api/method/
frappe.client.get_list` with a JSON body instead: the same listing (GET /api/resource calls
that method underneath, frappe/api/v1.py), answered as `{"message": [rows]}`. It spares httpx
its per-character URL checks (~2 µs per key: a 200-key call cost ~550 µs as a GET of 4.6 KB,
~130 µs as a POST) and keeps URLs clear of nginx's 8 KB header buffers. Short calls stay GETs.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from resolvers.batching import batches
from resolvers.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable
from resolvers.http import Requester
from resolvers.transport import Reply

KEYS_PER_CALL = 200  # the GraphQL max_first: a full page of keys is one call
# Encoded `in` bytes per call. A call past LONG_QUERY travels as a POST body, not in the URL,
# so nginx's 8 KB header buffers no longer bound it; 200 KB stays far under nginx's default
# body limit (client_max_body_size 1m). It was 6,000 while long lists were GETs, which cut a
# page of 200 Fxiaoke ids (24 hex digits each) into two calls.
FILTER_BUDGET = 200_000
# Query bytes (before percent-encoding) above which a list call is a POST get_list: about 35
# order ids. Measured per call, client side: a GET costs ~135 µs + ~2 µs per key (1 key 134,
# 35 keys 206, 200 keys 554), a POST ~130 µs at any size. Below the limit the GET is kept: the
# small calls most reads make stay plain, loggable /api/resource URLs at little cost.
LONG_QUERY = 1000
GET_LIST = "frappe.client.get_list"
Doc = dict[str, Any]
Filter = list[Any]
_TAGS = re.compile(r"<[^>]+>")


def chunks(keys: Sequence[str]) -> list[list[str]]:
    return batches(keys, size=KEYS_PER_CALL, budget=FILTER_BUDGET, cost=_encoded_length)


def _compact(value: Any) -> str:
    """JSON without the optional spaces: a 200-name `in` filter's URL is 10 % shorter."""
    return json.dumps(value, separators=(",", ":"))


_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")  # JSON and the URL carry these as they are


def _encoded_length(key: str) -> int:
    if _PLAIN.fullmatch(key):  # most names (SAL-ORD-2026-00001): the quotes add %22 twice
        return len(key) + 6
    return len(quote(json.dumps(key), safe=""))


class FrappeWire:
    """Calls to one Frappe site's `/api/resource`, with its envelopes decoded."""

    def __init__(
        self, requester: Requester, *, base_url: str, api_key: str, api_secret: str, page_size: int
    ) -> None:
        self.requester = requester
        self.base = base_url.rstrip("/") + "/api/resource/"
        self.methods = base_url.rstrip("/") + "/api/method/"
        self.page_size = page_size
        self._headers = {
            "Authorization": f"token {api_key}:{api_secret}",
            "Accept": "application/json",
        }

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """The `data` member of the reply; a 404 raises BackendRejected (DoesNotExistError)."""
        response = await self.requester.send(
            method,
            self.base + path,
            params=params,
            headers=self._headers,
            json=json_body,
            idempotent=idempotent,
        )
        return _member(response, "data", f"{method} /api/resource/{path}")

    async def call_method(self, dotted: str, args: Mapping[str, Any], *, idempotent: bool) -> Any:
        """The `message` of `POST /api/method/{dotted}` with `args` as its JSON body; a read
        (`idempotent=True`) is retried like a GET."""
        response = await self.requester.send(
            "POST",
            self.methods + dotted,
            headers=self._headers,
            json=dict(args),
            idempotent=idempotent,
        )
        return _member(response, "message", f"POST /api/method/{dotted}")

    async def get_list(
        self,
        doctype: str,
        fields: Sequence[str],
        filters: Sequence[Filter] = (),
        *,
        or_filters: Sequence[Filter] = (),
        parent: str | None = None,
        order_by: str = "name asc",
        start: int = 0,
        limit: int | None = None,
    ) -> list[Doc]:
        """One page of rows: a GET /api/resource, or a POST get_list when the query is long."""
        args: dict[str, Any] = {
            "fields": list(fields),
            "filters": list(filters),
            "order_by": order_by,
            "limit_start": start,
            "limit_page_length": limit or self.page_size,
        }
        if or_filters:
            args["or_filters"] = list(or_filters)
        if parent is not None:
            args["parent"] = parent
        params = {k: v if isinstance(v, str) else _compact(v) for k, v in args.items()}
        if sum(map(len, params.values())) > LONG_QUERY:
            data = await self.call_method(GET_LIST, {"doctype": doctype, **args}, idempotent=True)
        else:
            data = await self.call("GET", quote(doctype), params=params)
        return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []

    async def list_all(
        self,
        doctype: str,
        fields: Sequence[str],
        filters: Sequence[Filter] = (),
        *,
        parent: str | None = None,
    ) -> list[Doc]:
        """Every matching row: Frappe sends no total, so page until a page comes back short."""
        rows: list[Doc] = []
        while True:
            page = await self.get_list(doctype, fields, filters, parent=parent, start=len(rows))
            rows.extend(page)
            if len(page) < self.page_size:
                return rows

    async def in_list(
        self,
        doctype: str,
        field: str,
        keys: Sequence[str],
        fields: Sequence[str],
        filters: Sequence[Filter] = (),
        *,
        parent: str | None = None,
    ) -> list[Doc]:
        """Rows whose `field` is in `keys`: one call per 200 keys (more only for huge results)."""
        batches = await asyncio.gather(
            *(
                self.list_all(doctype, fields, [[field, "in", c], *filters], parent=parent)
                for c in chunks(keys)
            )
        )
        return [row for batch in batches for row in batch]

    async def get_doc(self, doctype: str, name: str) -> Doc | None:
        try:
            data = await self.call("GET", f"{quote(doctype)}/{quote(name, safe='')}")
        except BackendRejected as exc:
            if exc.status == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    async def insert(self, doctype: str, doc: Mapping[str, Any]) -> Doc:
        data = await self.call("POST", quote(doctype), json_body=dict(doc), idempotent=False)
        return _doc(data, doctype)

    async def update(self, doctype: str, name: str, changes: Mapping[str, Any]) -> Doc:
        path = f"{quote(doctype)}/{quote(name, safe='')}"
        data = await self.call("PUT", path, json_body=dict(changes), idempotent=False)
        return _doc(data, doctype)


def server_messages(body: Mapping[str, Any]) -> str:
    """The human text of a Frappe error: `_server_messages` is a JSON string of JSON strings."""
    texts: list[str] = []
    raw = body.get("_server_messages")
    try:
        entries = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        entries = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            decoded = json.loads(entry) if isinstance(entry, str) else entry
        except ValueError:
            decoded = entry
        message = decoded.get("message") if isinstance(decoded, dict) else decoded
        if message:
            texts.append(html.unescape(_TAGS.sub("", str(message))).strip())
    if not texts:
        for key in ("_error_message", "message", "exception"):
            if isinstance(body.get(key), str) and body[key]:
                texts.append(str(body[key]).strip())
                break
    return "; ".join(texts)


def _error(status: int, body: Mapping[str, Any], where: str) -> BackendError:
    exc_type = str(body.get("exc_type") or f"HTTP_{status}")
    detail = server_messages(body)
    message = f"ERPNext returned {status} {exc_type} for {where}" + (
        f": {detail}" if detail else ""
    )
    if status in (401, 403):  # real Frappe may answer 403 for a bad key (§D.2.1)
        return BackendAuthError(message, system="scm", status=status, backend_code=exc_type)
    if status >= 500:
        return BackendUnavailable(message, system="scm", status=status, backend_code=exc_type)
    return BackendRejected(message, system="scm", status=status, backend_code=exc_type)


def _member(response: Reply, key: str, where: str) -> Any:
    """`key` of a 2xx reply's JSON object, or the error the reply stands for."""
    body = _json(response)
    if 200 <= response.status_code < 300:
        if not isinstance(body, dict) or key not in body:
            raise BackendUnavailable(f"ERPNext sent no {key} for {where}", system="scm")
        return body[key]
    raise _error(response.status_code, body if isinstance(body, dict) else {}, where)


def _json(response: Reply) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _doc(data: Any, doctype: str) -> Doc:
    if not isinstance(data, dict):
        raise BackendUnavailable(f"ERPNext sent no {doctype} document back", system="scm")
    return data
