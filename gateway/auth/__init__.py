"""Bearer JWT authentication: verify the token, then build the Principal the policy reads.

    authenticate = Authenticator(AuthSettings(hs256_secret=secret), policy)
    principal = await authenticate(request)        # AuthError → unauthorized_response(err)

Algorithms come from an allowlist; the key is chosen by the algorithm family, never by the
token: an HS256 token is checked against the shared secret only, so an HS256 token signed
with the RSA public key (key confusion) fails, and `alg: none` is always refused. Error
descriptions say what was wrong and never echo the token.

A token verified with a key fixed by the settings (the HS256 secret, `public_key_pem`) is
kept with its Principal (`VERIFIED_TOKENS`, bounded): the same token again skips the
signature and the claims' parsing, and only its times and subject are checked again (with the
same errors). A token verified with a key from the JWKS endpoint is verified every time, so a
key dropped from the set stops its tokens at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from gateway.access.policy import Policy
from gateway.auth.claims import InvalidClaim, check_claims, role_list
from gateway.auth.jwks import JWKSCache, JWKSError
from gateway.lru import Lru
from resolvers.errors import CrossdockError
from schema.principal import ANONYMOUS, Principal

SYMMETRIC = frozenset({"HS256"})
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"})
_FAMILIES: dict[str, type] = {"RS": RSAPublicKey, "PS": RSAPublicKey, "ES": EllipticCurvePublicKey}
VERIFIED_TOKENS = 256  # distinct tokens kept verified (at most max_token_bytes each)


class AuthError(CrossdockError):
    """The request carries no valid bearer token; `description` goes to WWW-Authenticate.

    `caller_fault` is False when the gateway could not check the token at all (the signing
    keys are unreachable): such failures do not count against the caller's address.
    """

    code = "UNAUTHENTICATED"

    def __init__(self, description: str, *, caller_fault: bool = True) -> None:
        super().__init__(f"Unauthenticated: {description}.", code=self.code)
        self.description = description
        self.caller_fault = caller_fault


def is_failed_authentication(error: Exception) -> bool:
    """Did the caller fail to authenticate (an AuthError of theirs, or starlette's 401)?"""
    if isinstance(error, AuthError):
        return error.caller_fault
    return isinstance(error, HTTPException) and error.status_code == 401


class AuthConfigError(ValueError):
    """The authentication settings cannot work; the message names the setting and the fix."""


@dataclass(frozen=True)
class AuthSettings:
    """How tokens are verified and which claims carry scopes, roles and the partner id."""

    algorithms: tuple[str, ...] = ("HS256",)
    hs256_secret: str | None = field(default=None, repr=False)
    public_key_pem: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    leeway_s: int = 30
    scope_claims: tuple[str, ...] = ("scope", "scp", "scopes")
    roles_claim: str = "roles"
    partner_claim: str = "partner_id"
    max_token_bytes: int = 8192
    max_token_lifetime_s: int = 86400

    def __post_init__(self) -> None:
        unknown = set(self.algorithms) - SYMMETRIC - ASYMMETRIC
        if not self.algorithms or unknown:
            allowed = ", ".join(sorted(SYMMETRIC | ASYMMETRIC))
            raise AuthConfigError(f"auth.algorithms {sorted(unknown)} not supported; use {allowed}")
        if "HS256" in self.algorithms and not self.hs256_secret:
            raise AuthConfigError("auth.hs256_secret is missing (required when HS256 is allowed)")
        if self.hs256_secret is not None and len(self.hs256_secret.encode()) < 32:
            raise AuthConfigError("auth.hs256_secret is too short: use at least 32 random bytes")
        if set(self.algorithms) & ASYMMETRIC and not (self.public_key_pem or self.jwks_url):
            raise AuthConfigError(
                "auth.public_key_pem or auth.jwks_url is required for RS/ES/PS algorithms"
            )
        if self.leeway_s < 0 or self.max_token_bytes < 64:
            raise AuthConfigError("auth.leeway_s must be >= 0 and auth.max_token_bytes >= 64")
        if self.max_token_lifetime_s < 1:
            raise AuthConfigError("auth.max_token_lifetime_s must be at least 1 (seconds)")


_DESCRIPTIONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidKeyError, "key does not match the token algorithm"),
    (jwt.DecodeError, "malformed token"),
)


def _describe(err: jwt.PyJWTError) -> str:
    if isinstance(err, jwt.MissingRequiredClaimError):
        return f"missing required claim {err.claim}"
    return next((text for kind, text in _DESCRIPTIONS if isinstance(err, kind)), "invalid token")


def _strings(value: Any, claim: str) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise AuthError(f"claim {claim} must be a string or a list of strings")


class Authenticator:
    """Turns a request's bearer token into a Principal; raises AuthError when it cannot."""

    def __init__(
        self,
        settings: AuthSettings,
        policy: Policy,
        *,
        jwks: JWKSCache | None = None,
        allow_anonymous: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if settings.jwks_url and jwks is None and not settings.public_key_pem:
            raise AuthConfigError("auth.jwks_url is set: pass a JWKSCache to the Authenticator")
        self.settings = settings
        self.policy = policy
        self.allow_anonymous = allow_anonymous
        self._jwks = jwks
        self._clock = clock
        self._public_key = self._load_public_key(settings.public_key_pem)
        # saves the signature check and the claims' parsing of a repeated token: 0.6 % of a
        # request's CPU (bench.cpu_sample, peer's W2 and W1)
        self._verified: Lru[str, Principal] = Lru(VERIFIED_TOKENS)

    @staticmethod
    def _load_public_key(pem: str | None) -> Any:
        if not pem:
            return None
        try:
            return load_pem_public_key(pem.encode())
        except ValueError as err:
            raise AuthConfigError("auth.public_key_pem is not a PEM public key") from err

    async def __call__(self, request: HTTPConnection) -> Principal:
        header = request.headers.get("authorization")
        if header is None:
            if self.allow_anonymous:
                return ANONYMOUS
            raise AuthError("missing bearer token")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("expected Authorization: Bearer <token>")
        return await self.verify(token.strip())

    async def verify(self, token: str) -> Principal:
        """Check a compact JWT and build its Principal."""
        if len(token.encode("utf-8", "replace")) > self.settings.max_token_bytes:
            raise AuthError(f"token too large (limit {self.settings.max_token_bytes} bytes)")
        known = self._verified.get(token)
        if known is not None:
            self._check_claims(known.claims)  # its times again: it may have expired since
            return known
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise AuthError("not a JWT") from err
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.settings.algorithms:
            raise AuthError("algorithm not allowed")
        key = await self._key(alg, header.get("kid"))
        principal = self.principal(self._decode(token, key, alg))
        if alg in SYMMETRIC or key is self._public_key:  # a key the settings fix, not JWKS'
            self._verified.put(token, principal)
        return principal

    async def _key(self, alg: str, kid: Any) -> Any:
        if alg in SYMMETRIC:
            return self.settings.hs256_secret
        if self._jwks is not None:
            try:
                found = await self._jwks.key(kid if isinstance(kid, str) else None)
            except JWKSError as err:
                raise AuthError("signing keys unavailable", caller_fault=False) from err
            if found is not None:
                return found
            if self._public_key is None:
                raise AuthError("unknown signing key")
        if not isinstance(self._public_key, _FAMILIES[alg[:2]]):
            # PyJWT raises TypeError (a 500) when a PEM key of another family meets the token
            raise AuthError("key does not match the token algorithm")
        return self._public_key

    def _decode(self, token: str, key: Any, alg: str) -> dict[str, Any]:
        """Signature, issuer and audience by PyJWT; the times and subject by gateway.auth.claims
        (PyJWT's own time checks take numeric strings and crash on Infinity)."""
        s = self.settings
        required = ["exp", "sub", *(["iss"] if s.issuer else []), *(["aud"] if s.audience else [])]
        options: Any = {
            "require": required,
            "verify_aud": s.audience is not None,
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
            "verify_sub": False,
        }
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[alg], audience=s.audience, issuer=s.issuer, options=options
            )
        except jwt.PyJWTError as err:
            raise AuthError(_describe(err)) from err
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        """The times and the subject (gateway.auth.claims), at the clock's now."""
        s = self.settings
        try:
            check_claims(
                claims,
                now=self._clock(),
                leeway_s=s.leeway_s,
                max_lifetime_s=s.max_token_lifetime_s,
            )
        except InvalidClaim as err:
            raise AuthError(str(err)) from err

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """Effective scopes: token scopes ∪ scopes of its known roles (unknown roles dropped)."""
        s = self.settings
        token_scopes = self._claim_strings(claims, s.scope_claims)
        roles = frozenset(self._roles(claims)) & set(self.policy.roles)
        partner = claims.get(s.partner_claim)
        return Principal(
            subject=claims["sub"],
            roles=roles,
            scopes=frozenset(token_scopes) | self.policy.scopes_of_roles(roles),
            partner_id=partner if isinstance(partner, str) else None,
            claims=dict(claims),
        )

    def _roles(self, claims: Mapping[str, Any]) -> list[str]:
        name = self.settings.roles_claim
        if name not in claims:
            return []
        try:
            return role_list(claims[name], name)
        except InvalidClaim as err:
            raise AuthError(str(err)) from err

    @staticmethod
    def _claim_strings(claims: Mapping[str, Any], names: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for name in names:
            if name in claims:
                found.update(_strings(claims[name], name))
        return found


def unauthorized_response(err: AuthError) -> Response:
    """HTTP 401 with the RFC 6750 challenge and a GraphQL-shaped error body."""
    description = err.description.replace('"', "'").replace("\\", "/")
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    body = {"errors": [{"message": err.message, "extensions": {"code": err.code}}]}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})


async def auth_exception_handler(request: HTTPConnection, exc: Exception) -> Response:
    """For `Starlette(exception_handlers={AuthError: auth_exception_handler})`.

    An Authenticator raising AuthError inside `get_context` then becomes the 401 above.
    """
    if not isinstance(exc, AuthError):
        raise exc
    return unauthorized_response(exc)
