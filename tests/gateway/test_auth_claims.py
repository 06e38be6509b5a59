"""Strict claims: numeric finite times, a bounded lifetime, a real subject, roles as a list."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.access.policy import Policy
from gateway.auth import Authenticator, AuthError, AuthSettings
from tests.gateway.test_auth import AUDIENCE, ISSUER, SECRET, _hs256

NOW = 1_900_000_000  # a fixed clock: no test depends on the calendar
DAY = 86400


def claims(**extra: Any) -> dict[str, Any]:
    base = {"sub": "u1", "iat": NOW, "exp": NOW + 600, "iss": ISSUER, "aud": AUDIENCE}
    return {k: v for k, v in (base | extra).items() if v is not None}


def authenticator(**settings: Any) -> Authenticator:
    base: dict[str, Any] = {"hs256_secret": SECRET, "issuer": ISSUER, "audience": AUDIENCE}
    return Authenticator(AuthSettings(**(base | settings)), Policy.load(None), clock=lambda: NOW)


REFUSED: list[tuple[dict[str, Any], str]] = [
    # PyJWT reads exp with int(): a numeric string would pass as a far-future expiry
    (claims(exp=str(NOW + 600)), "claim exp must be a number (seconds since the epoch)"),
    # a boolean is an int to Python, not a time to anyone
    (claims(exp=True), "claim exp must be a number (seconds since the epoch)"),
    # 1e308 is a number, but a token valid for ever
    (claims(exp=1e308, iat=None), f"token lifetime too long (limit {DAY} s)"),
    # Python's JSON reader takes Infinity; int(inf) used to raise OverflowError (a 500)
    (claims(exp=float("inf")), "claim exp must be a finite number"),
    (claims(exp=float("nan")), "claim exp must be a finite number"),
    # lifetimes count from iat, or from now when iat is absent
    (claims(exp=NOW + 2 * DAY), f"token lifetime too long (limit {DAY} s)"),
    (claims(exp=NOW + 2 * DAY, iat=None), f"token lifetime too long (limit {DAY} s)"),
    # issued a month ago, valid ten more minutes: the issuer hands out month-long tokens
    (claims(iat=NOW - 30 * DAY), f"token lifetime too long (limit {DAY} s)"),
    # issued in the future (a forged iat cannot shorten the counted lifetime either)
    (claims(iat=NOW + 3600, exp=NOW + 3700), "token not yet valid"),
    (claims(iat="yesterday"), "claim iat must be a number (seconds since the epoch)"),
    (claims(nbf=str(NOW)), "claim nbf must be a number (seconds since the epoch)"),
    # an empty or blank subject names nobody; a number is not a subject either
    (claims(sub=""), "claim sub must be a non-empty string"),
    (claims(sub="   "), "claim sub must be a non-empty string"),
    (claims(sub=42), "claim sub must be a non-empty string"),
    # a string of roles is refused, not split: "partner admin" must not grant admin
    (claims(roles="partner admin"), "claim roles must be a list of strings"),
    (claims(roles=["sales", 7]), "claim roles must be a list of strings"),
    # with an issuer and audience configured, tokens must carry them
    (claims(iss=None), "missing required claim iss"),
    (claims(aud=None), "missing required claim aud"),
]


@pytest.mark.parametrize(("payload", "description"), REFUSED)
async def test_tokens_with_loose_claims_are_refused(
    payload: dict[str, Any], description: str
) -> None:
    with pytest.raises(AuthError) as caught:
        await authenticator().verify(_hs256(payload))
    assert caught.value.description == description


async def test_the_maximum_lifetime_is_a_setting() -> None:
    short = authenticator(max_token_lifetime_s=3600)
    assert (await short.verify(_hs256(claims(exp=NOW + 1800)))).subject == "u1"
    with pytest.raises(AuthError, match="token lifetime too long"):
        await short.verify(_hs256(claims(exp=NOW + 7200)))


async def test_a_token_within_every_rule_still_authenticates() -> None:
    payload = claims(exp=NOW + DAY, roles=["partner"], partner_id="DHL", nbf=NOW - 10)
    principal = await authenticator().verify(_hs256(payload))
    assert (principal.subject, principal.roles, principal.partner_id) == ("u1", {"partner"}, "DHL")


async def test_a_string_scope_is_still_split_as_rfc_8693_defines_it() -> None:
    principal = await authenticator().verify(_hs256(claims(scope="crm:read stock:read")))
    assert {"crm:read", "stock:read"} <= principal.scopes
