"""The corpAccessToken: fetched once, shared, renewed before it ages out (integration-notes §1.1).

The token endpoint allows 10 calls a minute and no concurrent calls, so the refresh is
single-flight: concurrent callers wait for the one fetch under a lock. A token is reused for
`refresh_s` (6,600 s: a later request would get a new one anyway) or its `expiresIn`, if
shorter. A call that gets `20016` calls `renew(stale)`, which fetches again only if no other
caller has already replaced that token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from resolvers.errors import BackendAuthError, BackendUnavailable
from resolvers.fxiaoke.envelope import envelope
from resolvers.http import Requester

TOKEN_PATH = "/cgi/corpAccessToken/get/V2"  # noqa: S105 - a path, not a secret
# busy, system error, service exception, per-interface and per-second limits: not about the
# credentials, so the token call is tried again (then BackendUnavailable, not an auth error)
TRANSIENT = frozenset({-1, -2, 50009, 14001, 30004})


@dataclass(frozen=True)
class FxToken:
    value: str
    corp_id: str
    fetched: float
    lifetime: float


class FxTokenSource:
    """Fetches and caches the tenant's corpAccessToken (`fetches` counts the fetches)."""

    def __init__(
        self,
        requester: Requester,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        permanent_code: str,
        refresh_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.requester, self.base_url, self.clock = requester, base_url.rstrip("/"), clock
        self._body = {"appId": app_id, "appSecret": app_secret, "permanentCode": permanent_code}
        self.refresh_s = refresh_s
        self._token: FxToken | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def current(self) -> FxToken:
        token = self._token
        if token is not None and self.clock() - token.fetched < token.lifetime:
            return token
        async with self._lock:
            token = self._token
            if token is None or self.clock() - token.fetched >= token.lifetime:
                token = self._token = await self._fetch()
            return token

    async def renew(self, stale: FxToken) -> FxToken:
        async with self._lock:
            if self._token is None or self._token is stale:
                self._token = await self._fetch()
            return self._token

    async def _fetch(self) -> FxToken:
        retry = self.requester.retry
        for attempt in range(1, retry.attempts + 1):
            body = await self._ask()
            code = body.get("errorCode")
            if code not in TRANSIENT:
                break
            if attempt < retry.attempts:
                await self.requester.sleep(retry.delay(attempt))
        else:
            raise BackendUnavailable(
                f"Fxiaoke's token endpoint POST {TOKEN_PATH} is busy or throttled (errorCode "
                f"{code}) after {retry.attempts} tries; the next call tries again",
                system="crm",
                backend_code=str(code),
            )
        token, corp = body.get("corpAccessToken"), body.get("corpId")
        if code != 0 or not isinstance(token, str) or not isinstance(corp, str):
            raise BackendAuthError(
                f"Fxiaoke refused the app credentials at POST {TOKEN_PATH} (errorCode {code}: "
                f"{str(body.get('errorMessage'))[:120]}); check crm.app_id, crm.app_secret and "
                "crm.permanent_code",
                system="crm",
                backend_code=str(code),
            )
        expires = body.get("expiresIn")
        lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else 7200.0
        return FxToken(token, corp, self.clock(), min(lifetime, self.refresh_s))

    async def _ask(self) -> dict[str, Any]:
        self.fetches += 1
        url = self.base_url + TOKEN_PATH
        response = await self.requester.send("POST", url, json=self._body, idempotent=True)
        return envelope(response, TOKEN_PATH)
