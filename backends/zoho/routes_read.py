"""Read endpoints: list, get by id, search (dialects.md §A.3–A.5, §D.1 items 3–5)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backends.zoho import criteria
from backends.zoho.envelopes import ZohoError, invalid_data, limit_exceeded, required_param
from backends.zoho.fields import TEXT_TYPES, Module
from backends.zoho.store import ZohoStore

MAX_FIELDS = 50
MAX_IDS = 100
MAX_PER_PAGE = 200
DISCRETE_LIMIT = 2000  # rows reachable with page/per_page alone
TOKEN_LIMIT = 100_000  # rows reachable with page_token
TOKEN_TTL_S = 86_400
_SORT_COLUMNS = {"id": "id", "Created_Time": "created_ms", "Modified_Time": "modified_ms"}


@dataclass(frozen=True)
class Query:
    """A list query, replayed page by page through its page token."""

    where: str
    params: tuple[Any, ...]
    sort_by: str
    sort_order: str

    @property
    def order_by(self) -> str:
        direction = self.sort_order.upper()
        column = _SORT_COLUMNS[self.sort_by]
        return f"{column} {direction}" + ("" if column == "id" else f", id {direction}")


@dataclass(frozen=True)
class _Token:
    query: Query
    offset: int
    expires_ms: int


class Reader:
    """Serves the read endpoints of every module from one store."""

    def __init__(self, store: ZohoStore) -> None:
        self.store = store
        self._tokens: dict[str, _Token] = {}

    def list_records(self, request: Request, module: Module) -> Response:
        params = request.query_params
        fields = parse_fields(module, params.get("fields"), required=True)
        per_page = _int_param(params.get("per_page"), "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        token_text = params.get("page_token")
        query, offset = self._position(request, module, per_page)
        rows = self.store.select_projected(
            module.api_name,
            query.where,
            query.params,
            fields=projected(module, fields),
            order_by=query.order_by,
            limit=per_page + 1,
            offset=offset,
        )
        if not rows:
            changed_since = "If-Modified-Since" in request.headers and token_text is None
            return Response(status_code=304 if changed_since else 204)
        more = len(rows) > per_page
        info = self._info(query, offset, per_page, len(rows[:per_page]), more)
        return _page(rows[:per_page], info)

    def _position(self, request: Request, module: Module, per_page: int) -> tuple[Query, int]:
        """The query and row offset of this page: from the page token, else from `page`."""
        params = request.query_params
        if "page_token" not in params:
            page = _int_param(params.get("page"), "page", 1, 1, None)
            if page * per_page > DISCRETE_LIMIT:
                message = "use page_token to fetch records beyond the first 2000"
                limit = {"limit": DISCRETE_LIMIT}
                raise ZohoError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED", message, limit)
            return self._list_query(request, module), (page - 1) * per_page
        if "page" in params:
            raise invalid_data("page and page_token cannot be used together", param_name="page")
        token = self._token(params["page_token"])
        if token.offset + per_page > TOKEN_LIMIT:
            limit = {"limit": TOKEN_LIMIT}
            raise ZohoError(400, "PAGINATION_LIMIT_EXCEEDED", "pagination limit exceeded", limit)
        return token.query, token.offset

    def get(self, request: Request, module: Module, record_id: str) -> Response:
        fields = parse_fields(module, request.query_params.get("fields"), required=False)
        found = self.store.get(module.api_name, [record_id]).get(record_id)
        if found is None:
            return Response(status_code=204)
        return JSONResponse({"data": [project(module, found, fields)]})

    def search(self, request: Request, module: Module) -> Response:
        params = request.query_params
        fields = parse_fields(module, params.get("fields"), required=False)
        where, values = self._search_condition(module, params)
        sort_by = _choice(params.get("sort_by"), "sort_by", tuple(_SORT_COLUMNS), "id")
        sort_order = _choice(params.get("sort_order"), "sort_order", ("asc", "desc"), "desc")
        query = Query(where, tuple(values), sort_by, sort_order)
        per_page = _int_param(params.get("per_page"), "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        page = _int_param(params.get("page"), "page", 1, 1, None)
        offset = (page - 1) * per_page
        if offset + per_page > DISCRETE_LIMIT:
            message = f"search returns at most {DISCRETE_LIMIT} records; refine the criteria"
            raise ZohoError(400, "LIMIT_REACHED", message, {"limit": DISCRETE_LIMIT})
        rows = self.store.select_projected(
            module.api_name,
            where,
            values,
            fields=projected(module, fields),
            order_by=query.order_by,
            limit=per_page + 1,
            offset=offset,
        )
        if not rows:
            return Response(status_code=204)
        more = len(rows) > per_page and offset + per_page < DISCRETE_LIMIT
        info = {
            "per_page": per_page,
            "count": len(rows[:per_page]),
            "page": page,
            "more_records": more,
            "sort_by": sort_by,
            "sort_order": sort_order,
        }
        return _page(rows[:per_page], info)

    def _list_query(self, request: Request, module: Module) -> Query:
        params = request.query_params
        where: list[str] = ["1"]
        values: list[Any] = []
        if params.get("ids"):
            ids = [i.strip() for i in params["ids"].split(",") if i.strip()]
            if len(ids) > MAX_IDS:
                raise limit_exceeded("ids", MAX_IDS)
            where.append(f"id IN ({','.join('?' * len(ids))})")
            values.extend(ids)
        since = request.headers.get("If-Modified-Since")
        if since:
            try:
                values.append(self.store.clock.parse_ms(since))
            except ValueError as exc:
                raise invalid_data("If-Modified-Since is not a valid datetime") from exc
            where.append("modified_ms > ?")
        sort_by = _choice(params.get("sort_by"), "sort_by", tuple(_SORT_COLUMNS), "id")
        sort_order = _choice(params.get("sort_order"), "sort_order", ("asc", "desc"), "desc")
        return Query(" AND ".join(where), tuple(values), sort_by, sort_order)

    def _search_condition(self, module: Module, params: Any) -> tuple[str, list[Any]]:
        # Precedence when several arrive: criteria > email > phone > word (§A.5).
        if params.get("criteria"):
            node = criteria.parse(params["criteria"])
            return criteria.compile_sql(node, module, self.store.clock)
        for name, kinds, minimum in (
            ("email", {"email"}, 1),
            ("phone", {"phone"}, 3),
            ("word", TEXT_TYPES | {"picklist"}, 2),
        ):
            value = params.get(name)
            if value:
                return _any_field_sql(module, name, kinds, value.strip().lower(), minimum)
        raise required_param("criteria")

    def _token(self, text: str) -> _Token:
        token = self._tokens.get(text)
        if token is None or token.expires_ms < int(time.time() * 1000):
            raise invalid_data("the page_token is invalid or has expired", param_name="page_token")
        return token

    def _info(
        self, query: Query, offset: int, per_page: int, count: int, more: bool
    ) -> dict[str, Any]:
        token, expiry = None, None
        if more:
            now_ms = int(time.time() * 1000)
            if len(self._tokens) > 10_000:  # drop expired tokens so a long run stays bounded
                self._tokens = {k: t for k, t in self._tokens.items() if t.expires_ms > now_ms}
            expires_ms = now_ms + TOKEN_TTL_S * 1000
            token = secrets.token_hex(24)
            self._tokens[token] = _Token(query, offset + per_page, expires_ms)
            expiry = self.store.clock.format(expires_ms)
        return {
            "per_page": per_page,
            "count": count,
            "page": offset // per_page + 1,
            "more_records": more,
            "sort_by": query.sort_by,
            "sort_order": query.sort_order,
            "next_page_token": token,
            "previous_page_token": None,
            "page_token_expiry": expiry,
            "call": False,
            "email": False,
        }


def parse_fields(module: Module, text: str | None, *, required: bool) -> list[str] | None:
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    if not names:
        if required:
            raise required_param("fields")
        return None
    if len(names) > MAX_FIELDS:
        raise limit_exceeded("fields", MAX_FIELDS)
    for name in names:
        if module.type_of(name) is None:
            raise invalid_data(f"invalid field {name}", api_name=name, param_name="fields")
    return names


def projected(module: Module, fields: list[str] | None) -> list[str]:
    """The fields a read returns besides `id`: the asked ones (else all), each once, in order."""
    names = fields if fields is not None else list(module.fields)
    return [name for name in dict.fromkeys(names) if name != "id"]


def project(module: Module, doc: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    out = {"id": doc["id"]}
    out.update({name: doc.get(name) for name in projected(module, fields)})
    return out


def _page(rows: list[str], info: dict[str, Any]) -> Response:
    """`{"data": [...], "info": {...}}` around records the store already wrote as JSON."""
    data = ",".join(rows)
    body = f'{{"data":[{data}],"info":{json.dumps(info, separators=(",", ":"))}}}'
    return Response(body, media_type="application/json")


def _any_field_sql(
    module: Module, param: str, kinds: set[str] | frozenset[str], value: str, minimum: int
) -> tuple[str, list[Any]]:
    if len(value) < minimum:
        raise criteria.invalid_query(f"{param} needs at least {minimum} characters")
    names = [n for n, kind in module.fields.items() if kind in kinds]
    if not names:
        raise criteria.invalid_query(f"{module.api_name} has no field to search by {param}")
    exact = param == "email"
    clause = "lower(json_extract(doc, '$.{}')) " + ("= ?" if exact else "LIKE ? ESCAPE '\\'")
    pattern = value if exact else "%" + value.replace("%", "\\%").replace("_", "\\_") + "%"
    return " OR ".join(clause.format(n) for n in names), [pattern] * len(names)


def _int_param(text: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise invalid_data(f"{name} must be an integer of at least {low}", param_name=name)
    if high is not None and value > high:
        raise limit_exceeded(name, high)
    return value


def _choice(text: str | None, name: str, options: tuple[str, ...], default: str) -> str:
    if text is None or text == "":
        return default
    if text not in options:
        raise invalid_data(f"{name} must be one of {', '.join(options)}", param_name=name)
    return text
