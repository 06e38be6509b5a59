"""Development tokens minted for `crossdock token` verify against the same settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.access.policy import Policy
from gateway.auth import Authenticator, AuthError, AuthSettings
from gateway.auth.tokens import DEMO_SECRET, is_demo_secret, mint, parse_ttl


async def test_a_minted_partner_token_verifies_with_its_role_scopes_and_partner_id() -> None:
    policy = Policy.load(None)
    token = mint(
        DEMO_SECRET, subject="dev", roles=["partner"], partner_id="DHL", ttl=timedelta(hours=1)
    )
    principal = await Authenticator(AuthSettings(hs256_secret=DEMO_SECRET), policy).verify(token)
    assert principal.subject == "dev"
    assert principal.roles == {"partner"}
    assert principal.scopes == policy.roles["partner"]
    assert principal.partner_id == "DHL"


async def test_extra_scopes_ride_in_the_scope_claim_and_expiry_is_enforced() -> None:
    policy = Policy.load(None)
    authenticator = Authenticator(AuthSettings(hs256_secret=DEMO_SECRET, leeway_s=0), policy)
    token = mint(DEMO_SECRET, subject="svc", scopes=["crm:read", "pii:read"], ttl=60)
    assert (await authenticator.verify(token)).scopes == {"crm:read", "pii:read"}
    stale = mint(DEMO_SECRET, subject="svc", ttl=60, clock=lambda: 1_000_000.0)
    with pytest.raises(AuthError, match="token expired"):
        await authenticator.verify(stale)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800), (" 2h ", 7200)],
)
def test_ttls_read_as_people_write_them(text: str, seconds: int) -> None:
    assert parse_ttl(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1w", "-1h", "0", "h", "1.5h"])
def test_ttls_that_do_not_parse_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"use e\.g\. 90s, 15m, 1h or 7d"):
        parse_ttl(text)


def test_the_demo_secret_is_recognised_so_production_can_refuse_it() -> None:
    assert is_demo_secret(DEMO_SECRET)
    assert not is_demo_secret("a-real-secret-from-the-vault-0123456789abcdef")
    assert not is_demo_secret(None)
