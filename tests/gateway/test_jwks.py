"""The JWKS cache keeps verifying with the keys it holds while the identity provider is down."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.auth.jwks import JWKSCache, JWKSError


class FlakyIdP:
    """Publishes one key until told to fail."""

    def __init__(self, jwk: dict[str, Any]) -> None:
        self.jwk = jwk
        self.down = False
        self.hits = 0
        self.app = Starlette(routes=[Route("/jwks.json", self.jwks)])

    async def jwks(self, request: Request) -> Response:
        self.hits += 1
        if self.down:
            return Response(status_code=503)
        return JSONResponse({"keys": [self.jwk]})


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def a_jwk(kid: str) -> dict[str, Any]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    return {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public)), "kid": kid, "use": "sig"}


async def test_stale_keys_keep_serving_when_the_refetch_fails() -> None:
    idp, clock = FlakyIdP(a_jwk("k1")), Clock()
    transport = httpx.ASGITransport(app=idp.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://idp") as client:
        cache = JWKSCache("http://idp/jwks.json", client, max_age_s=3600, clock=clock)
        assert await cache.key("k1") is not None
        idp.down = True
        clock.now += 3601  # the keys are stale: a refetch is due, and it fails
        held = await cache.key("k1")
    assert held is not None
    assert held.key_id == "k1"
    assert idp.hits == 2  # the refetch was tried


async def test_with_no_keys_held_a_failing_idp_is_an_error() -> None:
    idp = FlakyIdP(a_jwk("k1"))
    idp.down = True
    transport = httpx.ASGITransport(app=idp.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://idp") as client:
        cache = JWKSCache("http://idp/jwks.json", client, clock=Clock())
        with pytest.raises(JWKSError, match="503"):
            await cache.key("k1")
