"""The Zoho CRM v8 wire: auth header, envelopes, batched reads and paging (dialects §A).

Knows what a connector must not assume (§D.3): a 204 has no body, a single GET returns an
array, `info.count` is not a total, `fields` is mandatory on lists, and write results come
per record under `data[]` even with a 2xx status. Everything above this module speaks
records; nothing above it sees a status code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from resolvers.batching import batches
from resolvers.cursors import decode_cursor, encode_cursor, offset_of
from resolvers.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable
from resolvers.http import Requester
from resolvers.transport import Reply
from resolvers.zoho.auth import ZohoToken, ZohoTokenSource
from resolvers.zoho.mapping import all_of, condition, escape

API = "/crm/v8"
IDS_PER_CALL = 100  # `ids=` and search `in` both take at most 100 values (§A.3, §A.5)
PER_PAGE_MAX = 200
DISCRETE_LIMIT = 2000  # rows reachable with `page` alone; search has no tokens at all
Record = dict[str, Any]


CRITERIA_BUDGET = 2800  # criteria may be 3,000 characters (§A.5); leave room for the rest


def chunks(keys: Sequence[str]) -> list[list[str]]:
    return batches(keys, size=IDS_PER_CALL, budget=CRITERIA_BUDGET, cost=lambda k: len(escape(k)))


def zoho_id(value: str) -> bool:
    """Zoho record ids are long numeric strings; anything else cannot exist (and would 400)."""
    return value.isdigit() and len(value) <= 30


class ZohoWire:
    """Authenticated calls to `{api_domain}/crm/v8`, with Zoho's envelopes decoded."""

    def __init__(self, requester: Requester, auth: ZohoTokenSource) -> None:
        self.requester = requester
        self.auth = auth

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        records: bool = False,
    ) -> Record | None:
        """The decoded JSON body, or None for Zoho's bodiless 204.

        With `records`, a 4xx that carries per-record results (a write whose every record
        failed) is returned for `write_results` to judge instead of raised.
        """

        async def send(token: ZohoToken) -> Reply:
            headers = {
                "Authorization": f"Zoho-oauthtoken {token.access_token}",
                "Accept": "application/json",
            }
            return await self.requester.send(
                method,
                token.api_domain + API + path,
                headers=headers,
                params=params,
                json=json,
                idempotent=idempotent,
            )

        token = await self.auth.current()
        response = await send(token)
        if response.status_code == 401 and _code(response) == "INVALID_TOKEN":
            response = await send(await self.auth.renew(token))  # retried once (issue 3)
        return _decoded(response, f"{method} {API}{path}", records)

    async def by_ids(self, module: str, ids: Sequence[str], fields: str) -> list[Record]:
        """Records for `ids`, one `ids=` call per 100; unknown ids are simply absent."""
        valid = [i for i in dict.fromkeys(ids) if zoho_id(i)]
        if len(valid) == 1:
            return await self._one(module, valid[0], fields)
        batches = await asyncio.gather(
            *(
                self._rows(f"/{module}", {"ids": ",".join(c), "fields": fields})
                for c in chunks(valid)
            )
        )
        return [row for batch in batches for row in batch]

    async def _one(self, module: str, record_id: str, fields: str) -> list[Record]:
        try:
            return await self._rows(f"/{module}/{record_id}", {"fields": fields})
        except BackendRejected as exc:
            if exc.backend_code == "INVALID_DATA":  # real Zoho's answer for an unknown id (§D.1.4)
                return []
            raise

    async def _rows(self, path: str, params: Mapping[str, str]) -> list[Record]:
        return _data(await self.call("GET", path, params=params))

    async def search_all(self, module: str, criteria: str, fields: str) -> list[Record]:
        """Every search hit, page after page (search stops at 2,000 rows: §A.5)."""
        rows: list[Record] = []
        page = 1
        while True:
            params = {
                "criteria": criteria,
                "fields": fields,
                "per_page": str(PER_PAGE_MAX),
                "page": str(page),
            }
            body = await self.call("GET", f"/{module}/search", params=params)
            rows.extend(_data(body))
            if not _more(body):
                return rows
            if page * PER_PAGE_MAX >= DISCRETE_LIMIT:
                raise _search_cap(module)
            page += 1

    async def in_search(
        self, module: str, field: str, keys: Sequence[str], fields: str, extra: str | None = None
    ) -> list[Record]:
        """`(field:in:…)` searches, one per 100 keys, all pages, gathered."""

        def criteria(chunk: list[str]) -> str:
            parts = [condition(field, "in", chunk)]
            return all_of([*parts, extra] if extra else parts)

        batches = await asyncio.gather(
            *(self.search_all(module, criteria(c), fields) for c in chunks(keys))
        )
        return [row for batch in batches for row in batch]

    async def page(
        self, module: str, fields: str, *, first: int, after: str | None, criteria: str | None
    ) -> tuple[list[Record], str | None]:
        """One page of a listing (or of a search when `criteria` is set) and the next cursor."""
        kind = f"zoho:{module}:{'search' if criteria else 'list'}"
        position = decode_cursor(after, kind=kind)
        base = {"fields": fields, "sort_by": "id", "sort_order": "desc"}
        if "t" in position:
            return await self._token_page(module, base, position, first, kind)
        offset = offset_of(position)
        if criteria is not None and offset >= DISCRETE_LIMIT:
            raise _search_cap(module)
        # `page` reaches only the first 2,000 rows (a page ending past them is a 400, §A.4):
        # the page that crosses them is cut there, and a listing goes on with its token.
        first = min(first, DISCRETE_LIMIT - offset) if offset < DISCRETE_LIMIT else first
        page, skip = offset // first + 1, offset % first
        params = {**base, "page": str(page), "per_page": str(first)}
        path = f"/{module}/search" if criteria else f"/{module}"
        body = await self.call(
            "GET", path, params={**params, "criteria": criteria} if criteria else params
        )
        data = _data(body)
        if not _more(body):
            return data[skip:], None
        end = (page - 1) * first + len(data)  # a short page from an unaligned cursor realigns here
        token = _info(body).get("next_page_token")
        if criteria is None and end >= DISCRETE_LIMIT and isinstance(token, str):
            return data[skip:], encode_cursor({"k": kind, "t": token, "pp": first, "s": 0})
        return data[skip:], encode_cursor({"k": kind, "o": end})

    async def _token_page(
        self,
        module: str,
        base: Mapping[str, str],
        position: Mapping[str, Any],
        first: int,
        kind: str,
    ) -> tuple[list[Record], str | None]:
        token, per_page, skip = position.get("t"), position.get("pp"), position.get("s", 0)
        if not isinstance(token, str) or not isinstance(per_page, int) or not isinstance(skip, int):
            return [], None
        params = {**base, "page_token": token, "per_page": str(per_page)}
        body = await self.call("GET", f"/{module}", params=params)
        data = _data(body)
        rows = data[skip : skip + first]
        if skip + first < len(data):
            return rows, encode_cursor({"k": kind, "t": token, "pp": per_page, "s": skip + first})
        following = _info(body).get("next_page_token")
        if _more(body) and isinstance(following, str):
            return rows, encode_cursor({"k": kind, "t": following, "pp": per_page, "s": 0})
        return rows, None


def write_results(
    body: Record | None, where: str, *, tolerate: frozenset[str] = frozenset()
) -> list[Record]:
    """Per-record write results; an error row becomes a BackendRejected (§A.6) unless its
    code is tolerated (the caller handles it, e.g. DUPLICATE_DATA on an idempotency key)."""
    results = _data(body)
    if not results:
        raise BackendRejected(f"Zoho sent no per-record result for {where}", system="crm")
    for index, result in enumerate(results):
        if result.get("status") != "success" and result.get("code") not in tolerate:
            details = result.get("details") if isinstance(result.get("details"), dict) else {}
            field = details.get("api_name") if details else None
            code = str(result.get("code") or "ERROR")
            raise BackendRejected(
                f"Zoho rejected record {index} of {where}: {code}"
                f"{' on ' + str(field) if field else ''}: {result.get('message', '')}",
                system="crm",
                backend_code=code,
                field=field,
            )
    return results


def duplicate_of(result: Record, ref_field: str) -> str | None:
    """The existing record's id when an insert hit DUPLICATE_DATA on `ref_field`."""
    details = result.get("details")
    if result.get("code") != "DUPLICATE_DATA" or not isinstance(details, dict):
        return None
    record = details.get("duplicate_record")
    if details.get("api_name") != ref_field or not isinstance(record, dict):
        return None
    return str(record.get("id")) if record.get("id") else None


def _decoded(response: Reply, where: str, records: bool = False) -> Record | None:
    status = response.status_code
    if status in (204, 304):
        return None
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if 200 <= status < 300:
        if body is not None and not isinstance(body, dict):
            raise BackendUnavailable(
                f"Zoho sent a non-object body for {where}", system="crm", status=status
            )
        return body
    if records and status < 500 and isinstance(body, dict) and _data(body):
        return body
    raise _error(status, body if isinstance(body, dict) else {}, where)


def _error(status: int, body: Record, where: str) -> BackendError:
    if status < 500 and _data(body):  # a write whose every record failed: 400 + data[] (§A.6)
        write_results(body, where)
    code = str(body.get("code") or f"HTTP_{status}")
    message = f"Zoho returned {status} {code} for {where}: {body.get('message', '')}".rstrip(": ")
    if status in (401, 403):
        return BackendAuthError(message, system="crm", status=status, backend_code=code)
    if status >= 500:
        return BackendUnavailable(message, system="crm", status=status, backend_code=code)
    return BackendRejected(message, system="crm", status=status, backend_code=code)


def _code(response: Reply) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("code")) if isinstance(body, dict) else None


def _data(body: Record | None) -> list[Record]:
    data = body.get("data") if body else None
    return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []


def _info(body: Record | None) -> Record:
    info = body.get("info") if body else None
    return info if isinstance(info, dict) else {}


def _more(body: Record | None) -> bool:
    return _info(body).get("more_records") is True


def _search_cap(module: str) -> BackendRejected:
    return BackendRejected(
        f"Zoho search on {module} stops at {DISCRETE_LIMIT:,} rows; narrow the filter "
        "(e.g. a later modifiedSince or a customerId)",
        system="crm",
        backend_code="LIMIT_REACHED",
        public=True,
    )
