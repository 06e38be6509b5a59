"""Fxiaoke's two generations of authentication, one token cache (integration-notes §1.1).

    legacy_body  POST /cgi/corpAccessToken/get/V2 {appId, appSecret, permanentCode}
                 -> corpAccessToken + corpId; each call carries corpAccessToken, corpId and
                 currentOpenUserId at the top of its JSON body; expired: 20016
    header       POST /oauth2.0/token {appId, appSecret, permanentCode, grantType: app_secret}
                 -> accessToken + ea; each call carries `authorization: Bearer <token>`,
                 `x-fs-ea: <ea>` and `x-fs-userid: <CRM employee id>`; expired: 20005

The two must not be mixed in one request; `[crm] auth` picks one per tenant. Both endpoints
allow 10 calls a minute and no concurrent calls, so the refresh is single-flight: concurrent
callers wait for the one fetch under a lock. A token is reused for `refresh_s` (6,600 s: a
later request would get a new one anyway) or its `expiresIn`, if shorter. A call that gets
20016/20005 calls `renew(stale)`, which fetches again only if no other caller has already
replaced that token. Busy or throttled answers of the token endpoint are tried again and
end as BackendUnavailable, never as an error about the credentials.

With a `share` (resolvers.token_share; Redis with shared state), the token is also shared by
every worker and replica, as Zoho's is: a process without a valid token takes the shared one,
and one process fetches for all (the endpoint allows no concurrent calls).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from resolvers.errors import BackendAuthError, BackendUnavailable
from resolvers.fxiaoke.envelope import envelope
from resolvers.http import Requester
from resolvers.token_share import SharedToken, TokenShare

Generation = Literal["legacy_body", "header"]
GENERATIONS: tuple[Generation, ...] = ("legacy_body", "header")
TOKEN_PATH = "/cgi/corpAccessToken/get/V2"  # noqa: S105 - a path, not a secret
OAUTH_PATH = "/oauth2.0/token"
# busy, system error, service exception, per-interface and per-second limits: not about the
# credentials, so the token call is tried again (then BackendUnavailable, not an auth error)
TRANSIENT = frozenset({-1, -2, 50009, 14001, 30004})


@dataclass(frozen=True)
class FxToken:
    """A token and the tenant it names: the corpId (legacy) or the ea (header)."""

    value: str
    corp_id: str
    fetched: float
    lifetime: float


class FxTokenSource:
    """Fetches and caches the tenant's token of one generation (`fetches` counts the fetches)."""

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
        generation: Generation = "legacy_body",
    ) -> None:
        self.requester, self.base_url, self.clock = requester, base_url.rstrip("/"), clock
        self.generation = generation
        self._body: dict[str, str] = {
            "appId": app_id,
            "appSecret": app_secret,
            "permanentCode": permanent_code,
        }
        if generation == "header":
            self._body["grantType"] = "app_secret"
        self.path = OAUTH_PATH if generation == "header" else TOKEN_PATH
        self.refresh_s = refresh_s
        self._token: FxToken | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        self.share: TokenShare | None = None

    async def current(self) -> FxToken:
        token = self._token
        if token is not None and self.clock() - token.fetched < token.lifetime:
            return token
        async with self._lock:
            token = self._token
            if token is None or self.clock() - token.fetched >= token.lifetime:
                token = self._token = await self._obtain(stale=None)
            return token

    async def renew(self, stale: FxToken) -> FxToken:
        async with self._lock:
            if self._token is None or self._token.value == stale.value:
                self._token = await self._obtain(stale=stale.value)
            return self._token

    async def _obtain(self, *, stale: str | None) -> FxToken:
        """A new token: fetched here, or (with a share) the one every process shares."""
        if self.share is None:
            return await self._fetch()
        shared = await self.share.fetch(self._fetch_shared, stale=stale)
        return FxToken(shared.access_token, shared.api_domain, self.clock(), shared.ttl_s)

    async def _fetch_shared(self) -> SharedToken:
        token = await self._fetch()
        return SharedToken(token.value, token.corp_id, token.lifetime)  # corpId/ea as domain

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
                f"Fxiaoke's token endpoint POST {self.path} is busy or throttled (errorCode "
                f"{code}) after {retry.attempts} tries; the next call tries again",
                system="crm",
                backend_code=str(code),
            )
        legacy = self.generation == "legacy_body"
        token = body.get("corpAccessToken" if legacy else "accessToken")
        corp = body.get("corpId" if legacy else "ea")
        if code != 0 or not isinstance(token, str) or not isinstance(corp, str):
            raise BackendAuthError(
                f"Fxiaoke refused the app credentials at POST {self.path} (errorCode {code}: "
                f"{str(body.get('errorMessage'))[:120]}); check crm.app_id, crm.app_secret and "
                "crm.permanent_code (and crm.auth: the tenant's app may allow one generation)",
                system="crm",
                backend_code=str(code),
            )
        expires = body.get("expiresIn")
        lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else 7200.0
        return FxToken(token, corp, self.clock(), min(lifetime, self.refresh_s))

    async def _ask(self) -> dict[str, Any]:
        self.fetches += 1
        url = self.base_url + self.path
        response = await self.requester.send("POST", url, json=self._body, idempotent=True)
        return envelope(response, self.path)
