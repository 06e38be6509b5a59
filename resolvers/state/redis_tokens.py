"""OAuth access tokens in Redis, shared by every worker and replica, refreshed once at a time.

    share = RedisTokenShare(client, key=token_key("crossdock:", "zoho", ...), secret=...)
    token = await share.fetch(refresh, stale=None)      # a resolvers.token_share.TokenShare

Zoho limits how often one refresh token may be used; N workers each refreshing its own
access token multiply that by N. Here the token lives in one Redis key that expires with it:

- the key is `<prefix>oauth:<name>:<digest>`, the digest a SHA-256 of the token endpoint,
  client id and refresh token (one key per credential, no secret in the key);
- the value is sealed with AES-256-GCM under a key derived (HKDF) from the client secret and
  refresh token, which every replica has and Redis does not: someone who reads Redis reads
  no usable token. The key name is the associated data (a value moved to another key fails);
- single flight: a process that finds no usable token takes `<key>:refresh` (`SET NX PX`,
  released only by its holder), looks again (another process may just have refreshed),
  refreshes, stores the token with its lifetime as expiry, and releases. The others wait,
  reading the key, and take the new token; a holder that dies lets its lock expire
  (`lock_s`) and the next waiter refreshes;
- `stale`: the API refused that token (401 INVALID_TOKEN), so a stored token equal to it is
  not handed out again: one process refreshes, the others take its token.

Redis unreachable while a process needs a new token is StateUnavailable (never a refresh of
its own behind the others' backs); a process keeps using the valid token it has meanwhile.
Tokens never go into a log line or an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Awaitable, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from redis.asyncio import Redis
from redis.exceptions import RedisError

from resolvers.token_share import Refresh, SharedToken

from .errors import LockBusy
from .redis_buckets import redis_unavailable

_WHAT = "the CRM's shared OAuth token"
_NONCE = 12
# KEYS: the lock; ARGV: its holder's value. Deletes it only while it is still that holder's.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def token_key(prefix: str, name: str, identity: Sequence[str]) -> str:
    """The Redis key of one credential's token: a digest, never the credential itself."""
    digest = hashlib.sha256("\0".join(["crossdock-oauth", *identity]).encode()).hexdigest()
    return f"{prefix}oauth:{name}:{digest[:32]}"


class RedisTokenShare:
    """One credential's access token in Redis (see the module docstring)."""

    def __init__(
        self,
        client: Redis,
        *,
        key: str,
        secret: Sequence[str],
        lock_s: float = 15.0,
        wait_s: float = 30.0,
    ) -> None:
        self._client = client
        self.key = key
        self._lock_key = key + ":refresh"
        self._aead = AESGCM(_derive(secret))
        self._lock_ms = int(lock_s * 1000)
        self._wait_s = wait_s
        self._release = client.register_script(RELEASE)
        self.refreshes = 0  # refreshes this process made for everyone

    async def fetch(self, refresh: Refresh, *, stale: str | None) -> SharedToken:
        found = await self._usable(stale)
        if found is not None:
            return found
        deadline = time.monotonic() + self._wait_s
        pause = 0.02
        while True:
            holder = uuid.uuid4().hex
            if await self._call(
                self._client.set(self._lock_key, holder, nx=True, px=self._lock_ms)
            ):
                return await self._refresh_held(refresh, stale, holder)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.25)
            found = await self._usable(stale)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise LockBusy(
                    f"another gateway process has been refreshing the CRM's OAuth token for "
                    f"{self._wait_s:g} s without storing it; retry shortly"
                )

    async def _refresh_held(self, refresh: Refresh, stale: str | None, holder: str) -> SharedToken:
        try:
            found = await self._usable(stale)  # refreshed by another between our read and lock
            if found is not None:
                return found
            token = await refresh()
            self.refreshes += 1
            await self._store(token)
            return token
        finally:
            with contextlib.suppress(RedisError):  # else the lock expires by itself
                await self._release(keys=[self._lock_key], args=[holder])

    async def _usable(self, stale: str | None) -> SharedToken | None:
        token = await self._read()
        if token is None or token.access_token == stale:
            return None
        return token

    async def _read(self) -> SharedToken | None:
        pipe = self._client.pipeline(transaction=False)
        pipe.get(self.key)
        pipe.pttl(self.key)
        blob, pttl = await self._call(pipe.execute())
        if blob is None or pttl is None or int(pttl) <= 0:
            return None
        try:
            plain = self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], self.key.encode())
            data = json.loads(plain)
        except (InvalidTag, ValueError):
            return None  # another secret (a rotated client secret): refresh and overwrite
        return SharedToken(str(data["a"]), str(data["d"]), int(pttl) / 1000)

    async def _store(self, token: SharedToken) -> None:
        ttl_ms = int(token.ttl_s * 1000)
        if ttl_ms <= 0:
            return
        plain = json.dumps({"a": token.access_token, "d": token.api_domain}).encode()
        nonce = os.urandom(_NONCE)
        blob = nonce + self._aead.encrypt(nonce, plain, self.key.encode())
        await self._call(self._client.set(self.key, blob, px=ttl_ms))

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except RedisError as exc:
            raise redis_unavailable(_WHAT, exc) from exc


def _derive(secret: Sequence[str]) -> bytes:
    material = "\0".join(secret).encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"crossdock oauth token")
    return hkdf.derive(material)
