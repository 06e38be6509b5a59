"""Strict checks of a verified token's registered claims, beyond what PyJWT checks.

    check_claims(claims, now=time.time(), leeway_s=30, max_lifetime_s=86400)   # or InvalidClaim

PyJWT reads `exp`, `nbf` and `iat` through `int()`, so `"exp": "9999999999"` (a string) and
`"exp": 1e308` pass, and `"exp": Infinity` (Python's JSON reader accepts it) raises
OverflowError; it bounds no lifetime and takes `"sub": ""` as a subject. Here the times must
be JSON numbers (not strings, not booleans) and finite, the token may live at most
`max_lifetime_s` (counted from `iat`, or from now when `iat` is absent or in the future), and
the subject is a non-empty string. The signature is checked before any of this is read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class InvalidClaim(ValueError):
    """A claim has the wrong type or value; the message is the 401's error description."""


def _time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaim(f"claim {name} must be a number (seconds since the epoch)")
    if not math.isfinite(value):
        raise InvalidClaim(f"claim {name} must be a finite number")
    return float(value)


def check_times(
    claims: Mapping[str, Any], *, now: float, leeway_s: float, max_lifetime_s: float
) -> None:
    """`exp` required and not past, `nbf`/`iat` not in the future, the lifetime bounded."""
    exp = _time(claims, "exp")
    nbf, iat = _time(claims, "nbf"), _time(claims, "iat")
    if exp is None:
        raise InvalidClaim("missing required claim exp")
    if exp <= now - leeway_s:
        raise InvalidClaim("token expired")
    if (nbf is not None and nbf > now + leeway_s) or (iat is not None and iat > now + leeway_s):
        raise InvalidClaim("token not yet valid")
    start = now if iat is None else min(iat, now)
    if exp - start > max_lifetime_s + leeway_s:
        raise InvalidClaim(f"token lifetime too long (limit {max_lifetime_s:g} s)")


def check_subject(claims: Mapping[str, Any]) -> str:
    """The subject: a non-empty string, never blank (an empty one names nobody)."""
    if "sub" not in claims:
        raise InvalidClaim("missing required claim sub")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip():
        raise InvalidClaim("claim sub must be a non-empty string")
    return subject


def check_claims(
    claims: Mapping[str, Any], *, now: float, leeway_s: float, max_lifetime_s: float
) -> None:
    """Every check above; raises InvalidClaim describing the first that fails."""
    check_times(claims, now=now, leeway_s=leeway_s, max_lifetime_s=max_lifetime_s)
    check_subject(claims)


def role_list(value: Any, claim: str) -> list[str]:
    """The roles claim: a JSON list of strings. A string is refused rather than split, so
    `"partner admin"` cannot grant two roles where the identity provider meant one."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidClaim(f"claim {claim} must be a list of strings")
