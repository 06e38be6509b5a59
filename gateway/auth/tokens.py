"""Development tokens: HS256 JWTs minted with the configured secret (`crossdock token`).

    token = mint(DEMO_SECRET, subject="dev", roles=["partner"], partner_id="DHL", ttl=3600)

`DEMO_SECRET` is the secret of the demo settings, so a token minted in one shell works
against `make demo` in another. Production settings refuse it (`is_demo_secret`).
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

import jwt

DEMO_SECRET = "crossdock-demo-secret-do-not-use-in-production-0123456789"  # noqa: S105
_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def is_demo_secret(secret: str | None) -> bool:
    """True for the published demo secret, which production must never accept."""
    return secret is not None and hmac.compare_digest(secret.encode(), DEMO_SECRET.encode())


def parse_ttl(text: str) -> timedelta:
    """`"90"`, `"15m"`, `"1h"`, `"7d"` → a timedelta; ValueError naming the accepted forms."""
    match = _TTL.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"ttl {text!r} is not understood; use e.g. 90s, 15m, 1h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def mint(
    secret: str,
    *,
    subject: str,
    roles: Iterable[str] = (),
    scopes: Iterable[str] = (),
    partner_id: str | None = None,
    ttl: timedelta | int = 3600,
    issuer: str | None = None,
    audience: str | None = None,
    clock: Callable[[], float] = time.time,
) -> str:
    """An HS256 token with `sub`, `roles`, a space-separated `scope` and `exp` = now + ttl."""
    seconds = int(ttl.total_seconds()) if isinstance(ttl, timedelta) else int(ttl)
    now = int(clock())
    claims: dict[str, object] = {"sub": subject, "iat": now, "exp": now + seconds}
    if roles:
        claims["roles"] = sorted(set(roles))
    if scopes:
        claims["scope"] = " ".join(sorted(set(scopes)))
    if partner_id is not None:
        claims["partner_id"] = partner_id
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")
