"""Bearer JWT verification: hostile tokens, key families, claim mapping, the 401 answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.access.policy import Policy
from gateway.auth import (
    AuthConfigError,
    Authenticator,
    AuthError,
    AuthSettings,
    unauthorized_response,
)
from gateway.auth.jwks import JWKSCache
from schema.principal import ANONYMOUS

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
ISSUER = "https://idp.example"
AUDIENCE = "crossdock"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(None)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_public_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: dict[str, Any]) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "u1",
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "roles": ["sales"],
        **extra,
    }


def _hs256(claims: dict[str, Any], secret: str | bytes = SECRET, **header: Any) -> str:
    """HS256 by hand, so a test can sign with any key bytes (pyjwt refuses PEM secrets)."""
    key = secret.encode() if isinstance(secret, str) else secret
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', **header})}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _hs_auth(policy: Policy, **settings: Any) -> Authenticator:
    base: dict[str, Any] = {"hs256_secret": SECRET, "issuer": ISSUER, "audience": AUDIENCE}
    return Authenticator(AuthSettings(**(base | settings)), policy)


def _hostile(rsa_public_pem: str) -> list[tuple[str, str, str]]:
    good = _hs256(_claims())
    header, _payload, signature = good.split(".")
    return [
        # alg none: unsigned, must never pass
        (
            "alg none",
            f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(_claims())}.",
            "algorithm not allowed",
        ),
        ("expired", _hs256(_claims(exp=int(time.time()) - 3600)), "token expired"),
        ("nbf in the future", _hs256(_claims(nbf=int(time.time()) + 3600)), "token not yet valid"),
        ("wrong issuer", _hs256(_claims(iss="https://evil.example")), "wrong issuer"),
        ("wrong audience", _hs256(_claims(aud="someone-else")), "wrong audience"),
        # payload swapped for one granting admin, signature left as is
        (
            "tampered payload",
            f"{header}.{_segment(_claims(roles=['admin']))}.{signature}",
            "bad signature",
        ),
        ("signed with another secret", _hs256(_claims(), secret="x" * 64), "bad signature"),
        ("truncated", good[: good.rindex(".")], "not a JWT"),
        ("not a JWT", "hello-world", "not a JWT"),
        ("huge header", _hs256(_claims(), pad="A" * 9000), "token too large (limit 8192 bytes)"),
        (
            "no exp",
            _hs256({k: v for k, v in _claims().items() if k != "exp"}),
            "missing required claim exp",
        ),
        (
            "no subject",
            _hs256({k: v for k, v in _claims().items() if k != "sub"}),
            "missing required claim sub",
        ),
        (
            "scope of the wrong type",
            _hs256(_claims(scope=42)),
            "claim scope must be a string or a list of strings",
        ),
        # HS256 signed with the server's RSA public key: key confusion
        (
            "HS256 with the RS public key",
            _hs256(_claims(), secret=rsa_public_pem.encode()),
            "bad signature",
        ),
    ]


@pytest.mark.parametrize("case", range(14))
async def test_hostile_tokens_are_refused_with_a_description_that_never_echoes_them(
    policy: Policy, rsa_public_pem: str, case: int
) -> None:
    name, token, description = _hostile(rsa_public_pem)[case]
    authenticator = _hs_auth(policy, algorithms=("HS256", "RS256"), public_key_pem=rsa_public_pem)
    with pytest.raises(AuthError) as caught:
        await authenticator.verify(token)
    assert caught.value.description == description, name
    assert token[-20:] not in caught.value.message


async def test_an_hs256_token_is_refused_outright_when_only_rs256_is_allowed(
    policy: Policy, rsa_public_pem: str
) -> None:
    settings = AuthSettings(algorithms=("RS256",), public_key_pem=rsa_public_pem)
    token = _hs256(_claims(), secret=rsa_public_pem.encode())
    with pytest.raises(AuthError, match="algorithm not allowed"):
        await Authenticator(settings, policy).verify(token)


async def test_rs256_tokens_verify_with_the_configured_public_key(
    policy: Policy, rsa_key: rsa.RSAPrivateKey, rsa_public_pem: str
) -> None:
    settings = AuthSettings(algorithms=("RS256",), public_key_pem=rsa_public_pem, audience=AUDIENCE)
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256")
    principal = await Authenticator(settings, policy).verify(token)
    assert principal.subject == "u1"
    assert principal.roles == {"sales"}


async def test_a_token_of_another_key_family_than_the_pem_key_is_a_401_not_a_crash(
    policy: Policy, rsa_public_pem: str
) -> None:
    settings = AuthSettings(algorithms=("RS256", "ES256"), public_key_pem=rsa_public_pem)
    token = jwt.encode(_claims(aud=None), ec.generate_private_key(ec.SECP256R1()), "ES256")
    with pytest.raises(AuthError) as caught:
        await Authenticator(settings, policy).verify(token)
    assert caught.value.description == "key does not match the token algorithm"


async def test_effective_scopes_are_token_scopes_plus_role_scopes_and_unknown_roles_grant_nothing(
    policy: Policy,
) -> None:
    token = _hs256(_claims(roles=["partner", "wizard"], scope="orders:write", partner_id="DHL"))
    principal = await _hs_auth(policy).verify(token)
    assert principal.roles == {"partner"}
    assert principal.scopes == policy.roles["partner"] | {"orders:write"}
    assert principal.partner_id == "DHL"
    assert principal.claims["roles"] == ["partner", "wizard"]


async def test_claim_names_follow_the_identity_provider(policy: Policy) -> None:
    authenticator = _hs_auth(
        policy, scope_claims=("scp",), roles_claim="groups", partner_claim="carrier"
    )
    token = _hs256(
        _claims(roles=None, scp=["crm:read", "stock:read"], groups=["analyst"], carrier="UPS")
    )
    principal = await authenticator.verify(token)
    assert principal.roles == {"analyst"}
    assert {"crm:read", "stock:read", "finance:read"} <= principal.scopes
    assert principal.partner_id == "UPS"


async def test_leeway_accepts_a_token_that_expired_a_moment_ago(policy: Policy) -> None:
    token = _hs256(_claims(exp=int(time.time()) - 5))
    assert (await _hs_auth(policy, leeway_s=30).verify(token)).subject == "u1"
    with pytest.raises(AuthError, match="token expired"):
        await _hs_auth(policy, leeway_s=0).verify(token)


def _request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": headers})


@pytest.mark.parametrize(
    ("header", "description"),
    [
        (None, "missing bearer token"),  # no Authorization header at all
        ("Basic dXNlcjpwYXNz", "expected Authorization: Bearer <token>"),  # wrong scheme
        ("Bearer ", "expected Authorization: Bearer <token>"),  # scheme without a token
    ],
)
async def test_requests_without_a_bearer_token_are_refused(
    policy: Policy, header: str | None, description: str
) -> None:
    with pytest.raises(AuthError) as caught:
        await _hs_auth(policy)(_request(header))
    assert caught.value.description == description


async def test_anonymous_requests_pass_as_anonymous_when_the_app_allows_them(
    policy: Policy,
) -> None:
    authenticator = Authenticator(AuthSettings(hs256_secret=SECRET), policy, allow_anonymous=True)
    assert await authenticator(_request(None)) is ANONYMOUS
    principal = await authenticator(_request(f"Bearer {_hs256(_claims(aud=None, iss=None))}"))
    assert principal.subject == "u1"


def test_the_401_answer_carries_the_challenge_and_a_graphql_error() -> None:
    response = unauthorized_response(AuthError("token expired"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="token expired"'
    )
    assert json.loads(bytes(response.body)) == {
        "errors": [
            {
                "message": "Unauthenticated: token expired.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }


async def test_the_server_answers_401_to_a_hostile_token_and_keeps_serving(policy: Policy) -> None:
    authenticator = _hs_auth(policy)

    async def endpoint(request: Request) -> Response:
        try:
            principal = await authenticator(request)
        except AuthError as err:
            return unauthorized_response(err)
        return JSONResponse({"subject": principal.subject})

    app = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        bad = await client.post("/graphql", headers={"Authorization": "Bearer not.a.jwt"})
        good = await client.post(
            "/graphql", headers={"Authorization": f"Bearer {_hs256(_claims())}"}
        )
    assert bad.status_code == 401
    assert "not.a.jwt" not in bad.text
    assert good.json() == {"subject": "u1"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"algorithms": ("none",), "hs256_secret": SECRET}, "not supported"),  # alg none never
        ({"algorithms": ("HS256",)}, "auth.hs256_secret is missing"),
        ({"hs256_secret": "short"}, "auth.hs256_secret is too short"),  # brute-forceable
        ({"algorithms": ("RS256",)}, "auth.public_key_pem or auth.jwks_url is required"),
        ({"algorithms": (), "hs256_secret": SECRET}, "not supported"),  # empty allowlist
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_key(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(AuthConfigError, match=message):
        AuthSettings(**settings)


# --- JWKS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ec_keys() -> dict[str, ec.EllipticCurvePrivateKey]:
    return {kid: ec.generate_private_key(ec.SECP256R1()) for kid in ("k1", "k2")}


def _jwk(kid: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "ES256"}


class JWKSServer:
    """A tiny identity provider: serves the published keys and counts fetches."""

    def __init__(self) -> None:
        self.published: dict[str, dict[str, Any]] = {}
        self.hits = 0
        self.app = Starlette(routes=[Route("/jwks.json", self.jwks)])

    async def jwks(self, request: Request) -> Response:
        self.hits += 1
        return JSONResponse({"keys": list(self.published.values())})


@pytest.fixture
async def idp() -> AsyncIterator[tuple[JWKSServer, httpx.AsyncClient]]:
    server = JWKSServer()
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://idp") as client:
        yield server, client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _es_auth(policy: Policy, client: httpx.AsyncClient, clock: Clock) -> Authenticator:
    settings = AuthSettings(algorithms=("ES256",), jwks_url="http://idp/jwks.json")
    jwks = JWKSCache(settings.jwks_url or "", client, min_refresh_s=60, clock=clock)
    return Authenticator(settings, policy, jwks=jwks)


async def test_es256_tokens_verify_against_the_jwks_and_a_rotated_key_is_fetched_once(
    policy: Policy, idp: tuple[JWKSServer, httpx.AsyncClient], ec_keys: dict[str, Any]
) -> None:
    server, client = idp
    clock = Clock()
    server.published["k1"] = _jwk("k1", ec_keys["k1"])
    authenticator = _es_auth(policy, client, clock)
    token1 = jwt.encode(_claims(aud=None), ec_keys["k1"], algorithm="ES256", headers={"kid": "k1"})
    assert (await authenticator.verify(token1)).subject == "u1"
    assert (await authenticator.verify(token1)).subject == "u1"
    assert server.hits == 1
    server.published["k2"] = _jwk("k2", ec_keys["k2"])
    clock.now += 61
    token2 = jwt.encode(_claims(aud=None), ec_keys["k2"], algorithm="ES256", headers={"kid": "k2"})
    assert (await authenticator.verify(token2)).subject == "u1"
    assert server.hits == 2


async def test_unknown_kids_are_refused_and_cannot_make_the_gateway_hammer_the_idp(
    policy: Policy, idp: tuple[JWKSServer, httpx.AsyncClient], ec_keys: dict[str, Any]
) -> None:
    server, client = idp
    server.published["k1"] = _jwk("k1", ec_keys["k1"])
    authenticator = _es_auth(policy, client, Clock())
    for n in range(20):
        forged = jwt.encode(
            _claims(aud=None), ec_keys["k2"], algorithm="ES256", headers={"kid": f"x{n}"}
        )
        with pytest.raises(AuthError, match="unknown signing key"):
            await authenticator.verify(forged)
    assert server.hits == 1


async def test_a_key_from_the_jwks_cannot_verify_a_token_signed_by_another_key(
    policy: Policy, idp: tuple[JWKSServer, httpx.AsyncClient], ec_keys: dict[str, Any]
) -> None:
    server, client = idp
    server.published["k1"] = _jwk("k1", ec_keys["k1"])
    forged = jwt.encode(_claims(aud=None), ec_keys["k2"], algorithm="ES256", headers={"kid": "k1"})
    with pytest.raises(AuthError, match="bad signature"):
        await _es_auth(policy, client, Clock()).verify(forged)


async def test_an_unreachable_jwks_is_an_authentication_failure_not_a_crash(policy: Policy) -> None:
    app = Starlette(routes=[Route("/jwks.json", lambda request: Response(status_code=503))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://idp") as client:
        token = _hs256(_claims(), alg="ES256")
        token = f"{_segment({'alg': 'ES256', 'kid': 'k1'})}.{token.split('.')[1]}.AAAA"
        with pytest.raises(AuthError, match="signing keys unavailable"):
            await _es_auth(policy, client, Clock()).verify(token)


def test_auth_settings_never_show_the_secret_in_their_repr() -> None:
    settings = AuthSettings(hs256_secret="s3cr3t-" + "x" * 40)
    assert "s3cr3t" not in repr(settings)
