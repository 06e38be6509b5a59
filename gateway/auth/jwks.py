"""Signing keys from a JWKS URL: cached, refetched on an unknown `kid`, refetches rate-limited.

    jwks = JWKSCache("https://idp.example/.well-known/jwks.json", client=httpx.AsyncClient())
    key = await jwks.key("2026-03")     # PyJWK, or None if the IdP does not know the kid

An unknown kid triggers at most one refetch per `min_refresh_s`, so a flood of tokens with
made-up kids cannot turn the gateway into a load generator against the identity provider.
When the keys are past `max_age_s` and the refetch fails, the keys already held keep serving
(logged as a warning): an identity-provider outage must not log every caller out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from resolvers.errors import CrossdockError

logger = logging.getLogger("crossdock.auth")


class JWKSError(CrossdockError):
    """The key set could not be fetched or read; no token can be verified against it."""

    code = "JWKS_UNAVAILABLE"


class JWKSCache:
    """Caches the keys of one JWKS URL, fetched with an injected `httpx.AsyncClient`."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        min_refresh_s: float = 60.0,
        max_age_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._client = client
        self._min_refresh_s = min_refresh_s
        self._max_age_s = max_age_s
        self._clock = clock
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key for `kid`; refetches when stale or unknown (rate-limited); None if absent."""
        if self._stale():
            try:
                await self._refresh(force=True)
            except JWKSError as err:
                if not self._keys:
                    raise
                logger.warning("%s; verifying with the %d keys held", err, len(self._keys))
        found = self._lookup(kid)
        if found is None and self._may_refetch():
            await self._refresh(force=False)
            found = self._lookup(kid)
        return found

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at > self._max_age_s

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refresh_s

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            if not force and not self._may_refetch():
                return  # another request refetched while this one waited
            self._fetched_at = self._clock()
            self.fetches += 1
            self._keys = _parse(await self._fetch())

    async def _fetch(self) -> Any:
        try:
            response = await self._client.get(self.url, headers={"Accept": "application/json"})
        except httpx.HTTPError as err:
            raise JWKSError(f"JWKS {self.url} unreachable: {type(err).__name__}") from err
        if response.status_code != 200:
            raise JWKSError(f"JWKS {self.url} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as err:
            raise JWKSError(f"JWKS {self.url} is not JSON") from err


def _parse(document: Any) -> dict[str | None, jwt.PyJWK]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JWKSError('JWKS document has no "keys" list')
    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK.from_dict(entry)
        except jwt.exceptions.PyJWKError:
            continue  # an unsupported key type must not hide the usable ones
        keys[key.key_id] = key
    return keys
