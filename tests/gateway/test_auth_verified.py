"""A repeated token is verified once when its key is fixed by the settings; its times are
checked on every request. Tokens verified with JWKS keys are verified every time.

Spies count PyJWT's `decode` (the signature and the claims' parsing); clocks are injected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.access.policy import Policy
from gateway.auth import Authenticator, AuthError, AuthSettings
from gateway.auth.jwks import JWKSCache
from gateway.auth.tokens import mint

SECRET = "a-test-secret-that-is-long-enough-0123456789"
START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens PyJWT decoded (signature checked, claims parsed)."""
    seen: list[str] = []
    decode: Callable[..., Any] = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    return seen


def hs256(clock: Clock, leeway_s: int = 0) -> Authenticator:
    settings = AuthSettings(hs256_secret=SECRET, leeway_s=leeway_s)
    return Authenticator(settings, Policy.load(None), clock=clock)


async def test_a_repeated_token_is_verified_once_and_still_expires_on_time(
    decodes: list[str],
) -> None:
    clock = Clock()
    authenticator = hs256(clock, leeway_s=5)
    token = mint(SECRET, subject="svc", roles=["partner"], partner_id="DHL", ttl=60, clock=clock)
    first = await authenticator.verify(token)
    second = await authenticator.verify(token)
    assert second == first
    assert second.partner_id == "DHL"
    assert decodes == [token]
    clock.now = START + 60 + 5 + 1  # past exp and the leeway
    with pytest.raises(AuthError) as kept:
        await authenticator.verify(token)
    with pytest.raises(AuthError) as fresh:
        await hs256(clock, leeway_s=5).verify(token)
    assert kept.value.description == fresh.value.description  # the same answer as unkept


async def test_a_tampered_copy_of_a_kept_token_is_refused(decodes: list[str]) -> None:
    clock = Clock()
    authenticator = hs256(clock)
    token = mint(SECRET, subject="svc", roles=["admin"], clock=clock)
    await authenticator.verify(token)
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(AuthError, match="bad signature"):
        await authenticator.verify(forged)
    other = mint("another-secret-that-is-long-enough-0123456789", subject="svc", clock=clock)
    with pytest.raises(AuthError, match="bad signature"):
        await authenticator.verify(other)


async def test_tokens_of_jwks_keys_are_verified_every_time(decodes: list[str]) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [{**public_jwk, "kid": "k1", "use": "sig"}]})

    idp = Starlette(routes=[Route("/jwks.json", jwks)])
    claims = {"sub": "svc", "roles": ["admin"], "iat": int(START), "exp": int(START) + 600}
    token = jwt.encode(claims, private, algorithm="ES256", headers={"kid": "k1"})
    transport = httpx.ASGITransport(app=idp)
    async with httpx.AsyncClient(transport=transport, base_url="http://idp") as client:
        url = "http://idp/jwks.json"
        settings = AuthSettings(algorithms=("ES256",), jwks_url=url)
        cache = JWKSCache(url, client)
        authenticator = Authenticator(settings, Policy.load(None), jwks=cache, clock=Clock())
        for _ in range(2):
            assert (await authenticator.verify(token)).subject == "svc"
    assert decodes == [token, token]
