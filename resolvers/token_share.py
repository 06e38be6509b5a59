"""An OAuth access token shared by every worker and replica, refreshed by one of them.

    source.share = RedisTokenShare(...)          # resolvers.state.redis_tokens
    token = await share.fetch(refresh, stale=None)

A connector's token source (resolvers.zoho.auth, resolvers.fxiaoke.auth) keeps its token in
process while it is valid and asks the share only when it has none, it expired, or the API
refused it (`stale`: the access token refused, so the share hands out a newer one or
refreshes once for all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SharedToken:
    """An access token, what it is for besides itself (Zoho: the API domain; Fxiaoke: the
    corpId or ea it names), and how many seconds it stays usable."""

    access_token: str
    api_domain: str
    ttl_s: float


Refresh = Callable[[], Awaitable[SharedToken]]


class TokenShare(Protocol):
    async def fetch(self, refresh: Refresh, *, stale: str | None) -> SharedToken:
        """The shared token unless it is `stale`; else `refresh` once across processes."""
        ...
