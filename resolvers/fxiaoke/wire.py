"""The Fxiaoke wire: auth (legacy in the body, or Bearer headers), the 200-with-errorCode
envelope, batching, paging.

Every call is a POST of JSON; HTTP 200 says nothing, `errorCode` decides (§D.3). What each
code means to the connector (integration-notes §1.2):

    0                     success
    20016 / 20005         token expired or unknown: renew it once (single-flight), retry once
    14001 / 30004         per-interface or per-second limit: refused before processing, so
                          retried with backoff, writes too
    -1 / -2 / 50009       busy / system error / service exception: reads retried with
                          backoff; writes not (the write may have happened: BackendUnavailable)
                          (these and 14001/30004 count as failures for the circuit breaker;
                          retries stay within the requester's retry budget)
    30002                 daily quota used up: BackendUnavailable at once, never retried
    30003                 no OpenAPI quota bought: BackendUnavailable (configuration)
    10013                 with offset > 0 "offset out of range 10000": BackendRejected (a
                          paging bug: this wire never sends an offset past 0); else auth
    10006, 20017, 20012, 30027, 15003, 20014, 20020–20023    BackendAuthError (configuration)
    anything else         BackendRejected with the code and the message

Reads batch keys into `IN` filters of at most 100 values and page by `_id`: `offset` stays 0
and each page filters `_id GT` the last one (ascending), or `_id LT` (descending, for the
newest-first listings), so depth never meets the 10,000-offset wall.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from resolvers.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable
from resolvers.fxiaoke.auth import FxToken, FxTokenSource
from resolvers.fxiaoke.envelope import envelope
from resolvers.fxiaoke.limiter import CallLimiter
from resolvers.http import Requester

QUERY = "/cgi/crm/v2/data/query"
PAGE_MAX = 100  # `limit` is at most 100 (◐ [X-SK])
IN_MAX = 100  # values per IN filter
Record = dict[str, Any]
Filter = dict[str, Any]
_ID = re.compile(r"^[0-9a-f]{24,32}$")
_AUTH_CODES = frozenset({10006, 20017, 20012, 30027, 15003, 20014, 20020, 20021, 20022, 20023})
_BUSY = frozenset({-1, -2, 50009})
_THROTTLED = frozenset({14001, 30004})
_EXPIRED = frozenset({20016, 20005})


def fx_id(value: str) -> bool:
    """Fxiaoke `_id`s are 24 or 32 hex digits; anything else cannot exist."""
    return bool(_ID.match(value))


def flt(field: str, operator: str, values: Sequence[str]) -> Filter:
    """One `search_query_info` filter; values always travel as strings (✅ [X-APIFOX])."""
    return {"field_name": field, "field_values": [str(v) for v in values], "operator": operator}


class FxWire:
    """Authenticated, rate-limited calls to one tenant's `/cgi` verbs, envelopes decoded."""

    def __init__(
        self,
        requester: Requester,
        auth: FxTokenSource,
        limiter: CallLimiter,
        *,
        base_url: str,
        open_user_id: str,
        user_id: str = "",
    ) -> None:
        self.requester, self.auth, self.limiter = requester, auth, limiter
        self.base_url, self.open_user_id = base_url.rstrip("/"), open_user_id
        self.user_id = user_id  # x-fs-userid, the CRM employee id (header generation)

    async def call(
        self, path: str, data: Any = None, *, top: Record | None = None, write: bool = False
    ) -> Record:
        """The success envelope of one verb, or a BackendError (see the module's table)."""
        token = await self.auth.current()
        renewed, retries = False, 0
        while True:
            await self.limiter.acquire(path)
            envelope = await self._post(path, token, data, top or {}, write)
            code = envelope.get("errorCode")
            if code == 0:
                return envelope
            if code in _EXPIRED and not renewed:
                token, renewed = await self.auth.renew(token), True
                continue
            failure, may_retry = self._failure(path, code, envelope, data, write)
            self._struggling(code)
            budget = self.requester.budget
            if not may_retry or retries + 1 >= self.requester.retry.attempts:
                raise failure
            if budget is not None and not budget.can_retry():
                raise failure
            retries += 1
            await self.requester.sleep(self.requester.retry.delay(retries))

    async def query(
        self,
        api_name: str,
        filters: Sequence[Filter],
        *,
        limit: int = PAGE_MAX,
        ascending: bool = True,
        projection: Sequence[str] | None = None,
        order_by: Sequence[str] = ("_id",),
    ) -> list[Record]:
        """One page: offset 0, ordered by `order_by` (default `_id`), all one direction."""
        info: Record = {
            "limit": limit,
            "offset": 0,
            "filters": list(filters),
            "orders": [{"fieldName": name, "isAsc": ascending} for name in order_by],
        }
        if projection is not None:
            info["fieldProjection"] = list(projection)
        data = {
            "dataObjectApiName": api_name,
            "search_query_info": info,
            "find_explicit_total_num": False,  # `total` is never used to decide paging
        }
        body = await self.call(QUERY, data)
        rows = (body.get("data") or {}).get("dataList")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    async def query_all(
        self, api_name: str, filters: Sequence[Filter], *, projection: Sequence[str] | None = None
    ) -> list[Record]:
        """Every matching record, by `_id GT` pages of 100 (deep paging, ◐ [X-SK])."""
        rows: list[Record] = []
        while True:
            after = [flt("_id", "GT", [rows[-1]["_id"]])] if rows else []
            page = await self.query(api_name, [*filters, *after], projection=projection)
            rows += page
            if len(page) < PAGE_MAX:
                return rows

    async def query_in(
        self,
        api_name: str,
        field: str,
        values: Sequence[str],
        *,
        extra: Sequence[Filter] = (),
        projection: Sequence[str] | None = None,
    ) -> list[Record]:
        """Records whose `field` is one of `values`: one IN filter per 100 distinct values."""
        unique = list(dict.fromkeys(v for v in values if v))
        if field in ("_id", "account_id", "order_id", "product_id"):
            unique = [v for v in unique if fx_id(v)]
        rows: list[Record] = []
        for start in range(0, len(unique), IN_MAX):
            chunk = unique[start : start + IN_MAX]
            rows += await self.query_all(
                api_name, [flt(field, "IN", chunk), *extra], projection=projection
            )
        return rows

    async def _post(self, path: str, token: FxToken, data: Any, top: Record, write: bool) -> Record:
        """One call, authenticated as the token's generation says: in the body (legacy) or
        in the headers (never both: the two must not be mixed)."""
        headers: dict[str, str] | None = None
        body: Record = dict(top)
        if self.auth.generation == "header":
            headers = {
                "authorization": f"Bearer {token.value}",
                "x-fs-ea": token.corp_id,
                "x-fs-userid": self.user_id,
            }
        else:
            body |= {
                "corpAccessToken": token.value,
                "corpId": token.corp_id,
                "currentOpenUserId": self.open_user_id,
            }
        if data is not None:
            body["data"] = data
        response = await self.requester.send(
            "POST", self.base_url + path, json=body, headers=headers, idempotent=not write
        )
        return envelope(response, path)

    def _struggling(self, code: Any) -> None:
        """A busy or throttling code in a 200 is a failure for the circuit breaker, as a 5xx
        or 429 is for the other backends (the requester saw only the 200)."""
        breaker = self.requester.breaker
        if breaker is not None and (code in _BUSY or code in _THROTTLED):
            breaker.record(success=False)

    def _failure(
        self, path: str, code: Any, envelope: Record, data: Any, write: bool
    ) -> tuple[BackendError, bool]:
        """The error for a non-zero `errorCode`, and whether trying again may help."""
        message = str(envelope.get("errorMessage") or "")[:200]
        where = f"Fxiaoke POST {path}: errorCode {code} ({message})"
        backend_code = str(code)
        if code == 30002:
            self.limiter.exhausted()
            return self.limiter.quota_error(f" (the tenant said so: {message})"), False
        if code == 30003:
            text = f"{where}: the tenant has no OpenAPI quota; buy a resource pack"
            return BackendUnavailable(text, system="crm", backend_code=backend_code), False
        if code in _THROTTLED:
            text = f"{where}: the tenant's call limit; retried with backoff"
            return BackendUnavailable(text, system="crm", backend_code=backend_code), True
        if code in _BUSY:
            text = (
                f"{where}; {'not retried: a write may have been applied' if write else 'retried'}"
            )
            return BackendUnavailable(text, system="crm", backend_code=backend_code), not write
        if code == 10013 and _offset(data) > 0:
            text = f"{where}: offset past 10,000; page by _id instead"
            return BackendRejected(text, system="crm", backend_code=backend_code), False
        if code in _AUTH_CODES or code in _EXPIRED or code == 10013:
            user = "crm.user_id" if self.auth.generation == "header" else "crm.open_user_id"
            text = f"{where}: check crm.app_id, crm.permanent_code and {user}"
            return BackendAuthError(text, system="crm", backend_code=backend_code), False
        return BackendRejected(where, system="crm", backend_code=backend_code), False


def _offset(data: Any) -> int:
    info = data.get("search_query_info") if isinstance(data, dict) else None
    offset = info.get("offset") if isinstance(info, dict) else 0
    return offset if isinstance(offset, int) else 0
