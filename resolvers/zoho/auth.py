"""Zoho OAuth: one shared access token, refreshed before expiry and once on INVALID_TOKEN.

Zoho access tokens live an hour and the refresh grant returns no new refresh token (dialects
§A.1). Concurrent callers share one refresh through a lock; the API domain comes from the
token response unless the options override it. Secrets go in the form body, never the URL,
and never into an error message.

With a `share` (resolvers.token_share; Redis with shared state), the token is also shared by
every worker and replica: a process without a valid token takes the shared one, and only one
process refreshes it at a time (Zoho limits refreshes per refresh token).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from resolvers.errors import BackendAuthError, BackendRejected
from resolvers.http import Requester
from resolvers.token_share import SharedToken, TokenShare

Clock = Callable[[], float]
EXPIRY_MARGIN_S = 60.0


@dataclass(frozen=True)
class ZohoToken:
    access_token: str
    api_domain: str
    expires_at: float


class ZohoTokenSource:
    """Hands out a valid access token, refreshing through `POST {accounts_url}/oauth/v2/token`."""

    def __init__(
        self,
        requester: Requester,
        *,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        api_domain: str | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._requester = requester
        self._url = accounts_url.rstrip("/") + "/oauth/v2/token"
        self._form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        self._api_domain = api_domain
        self._clock = clock
        self._token: ZohoToken | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0
        self.share: TokenShare | None = None

    async def current(self) -> ZohoToken:
        token = self._token
        if token is not None and self._clock() < token.expires_at:
            return token
        async with self._lock:
            token = self._token
            if token is not None and self._clock() < token.expires_at:
                return token
            self._token = await self._obtain(stale=None)
            return self._token

    async def renew(self, stale: ZohoToken) -> ZohoToken:
        """A fresh token after the API refused `stale`; callers racing here refresh once."""
        async with self._lock:
            if self._token is not None and self._token.access_token != stale.access_token:
                return self._token
            self._token = await self._obtain(stale=stale.access_token)
            return self._token

    async def _obtain(self, *, stale: str | None) -> ZohoToken:
        """A new token: refreshed here, or (with a share) the one every process shares."""
        if self.share is None:
            return await self._refresh()
        shared = await self.share.fetch(self._refresh_shared, stale=stale)
        return ZohoToken(shared.access_token, shared.api_domain, self._clock() + shared.ttl_s)

    async def _refresh_shared(self) -> SharedToken:
        token = await self._refresh()
        return SharedToken(token.access_token, token.api_domain, token.expires_at - self._clock())

    async def _refresh(self) -> ZohoToken:
        response = await self._requester.send("POST", self._url, data=self._form, idempotent=True)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
            raise self._refusal(response.status_code, body)
        access, domain = body.get("access_token"), body.get("api_domain")
        if not isinstance(access, str) or not access:
            raise self._refusal(response.status_code, body)
        lifetime = float(body.get("expires_in") or 3600)
        self.refreshes += 1
        return ZohoToken(
            access_token=access,
            api_domain=(self._api_domain or str(domain or "")).rstrip("/"),
            expires_at=self._clock() + max(lifetime - EXPIRY_MARGIN_S, lifetime / 2),
        )

    def _refusal(self, status: int, body: object) -> BackendAuthError | BackendRejected:
        code = str(body.get("error")) if isinstance(body, dict) and body.get("error") else None
        message = (
            f"Zoho refused to refresh the access token at {self._url} (HTTP {status}"
            f"{', ' + code if code else ''}); check crm client_id, client_secret and refresh_token"
        )
        return BackendAuthError(message, system="crm", status=status, backend_code=code)
