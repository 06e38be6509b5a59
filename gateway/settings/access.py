"""The `[auth]` and `[policy]` settings sections: how tokens are verified, which policy applies.

    [auth]     algorithms, hs256_secret (CROSSDOCK_JWT_SECRET), public_key_pem_file, jwks_url,
               issuer, audience, leeway_s, max_token_lifetime_s, scope_claims, roles_claim,
               partner_claim
    [policy]   path (default: the shipped policy), mode ("hide" | "null" | "reject"), audit_log,
               backend_detail_roles

Only `crossdock demo` (and `crossdock token` without --config) may fall back to the published
demo secret (`demo=True`); any other configuration without its own HS256 secret, or with the
demo's, is refused whatever the environment. Production also requires `issuer` and `audience`
(`check_production`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gateway.auth import AuthConfigError, AuthSettings
from gateway.auth.tokens import DEMO_SECRET, is_demo_secret
from gateway.settings.section import Section, SettingsError, Table

SECRET_ENV = "CROSSDOCK_JWT_SECRET"  # noqa: S105 - the name of the variable, not a secret
_SECRET_FIX = (
    f" (set {SECRET_ENV} or [auth] hs256_secret to at least 32 random bytes, e.g. the output "
    "of `openssl rand -base64 48`)"
)
Environment = Literal["development", "production"]
PolicyMode = Literal["hide", "null", "reject"]


@dataclass(frozen=True)
class PolicySettings:
    """Which access policy applies, what a denied field does, where sensitive reads are logged.

    `path` None means the policy shipped in the package; `audit_log` None turns auditing off.
    """

    path: str | None = None
    mode: PolicyMode = "hide"
    audit_log: str | None = "audit.log"
    # roles shown a backend's own error message (path, text) instead of the neutral one
    backend_detail_roles: frozenset[str] = frozenset()


def _strings(s: Section, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = s.raw(key)
    if value is None:
        return default
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{s.name}.{key} must be a non-empty list of strings, got {value!r}")
    return tuple(value)


def _roles(s: Section, key: str) -> frozenset[str]:
    value = s.raw(key)
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SettingsError(f'{s.name}.{key} must be a list of role names, e.g. ["admin"]')
    return frozenset(value)


def _pem(s: Section) -> str | None:
    path = s.optional_text("public_key_pem_file", env="CROSSDOCK_JWT_PUBLIC_KEY_FILE")
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(
            f"auth.public_key_pem_file {path} cannot be read ({exc.strerror}); "
            "point it at a PEM public key"
        ) from None


def _secret(s: Section, algorithms: tuple[str, ...], *, demo: bool) -> str | None:
    secret = s.optional_text("hs256_secret", env=SECRET_ENV)
    if demo:
        return DEMO_SECRET if secret is None and "HS256" in algorithms else secret
    if is_demo_secret(secret):
        raise SettingsError(
            f"auth.hs256_secret is the published demo secret, which only `crossdock demo` may "
            f"use{_SECRET_FIX}"
        )
    return secret


def parse_auth(table: Table, env: Mapping[str, str], *, demo: bool = False) -> AuthSettings:
    """The `[auth]` section; AuthSettings' own checks become SettingsErrors.

    `demo=True` (the demo and its token minting only) falls back to the published secret."""
    s = Section("auth", table, env)
    base = AuthSettings(hs256_secret=DEMO_SECRET)
    algorithms = _strings(s, "algorithms", base.algorithms)
    secret = _secret(s, algorithms, demo=demo)
    try:
        result = AuthSettings(
            algorithms=algorithms,
            hs256_secret=secret,
            public_key_pem=_pem(s),
            jwks_url=s.optional_text("jwks_url", env="CROSSDOCK_JWKS_URL"),
            issuer=s.optional_text("issuer", env="CROSSDOCK_JWT_ISSUER"),
            audience=s.optional_text("audience", env="CROSSDOCK_JWT_AUDIENCE"),
            leeway_s=s.integer("leeway_s", base.leeway_s),
            max_token_lifetime_s=s.integer(
                "max_token_lifetime_s", base.max_token_lifetime_s, low=1
            ),
            scope_claims=_strings(s, "scope_claims", base.scope_claims),
            roles_claim=s.text("roles_claim", base.roles_claim),
            partner_claim=s.text("partner_claim", base.partner_claim),
        )
    except AuthConfigError as exc:
        hint = _SECRET_FIX if "hs256_secret" in str(exc) else ""
        raise SettingsError(f"{exc}{hint}") from None
    s.check_unknown()
    return result


def parse_policy(table: Table, env: Mapping[str, str]) -> PolicySettings:
    """The `[policy]` section."""
    s = Section("policy", table, env)
    audit = s.raw("audit_log", "CROSSDOCK_AUDIT_LOG")
    if audit is not None and not isinstance(audit, str):
        raise SettingsError(f'policy.audit_log must be a path or "" (off), got {audit!r}')
    mode = s.choice("mode", "hide", ("hide", "null", "reject"))
    result = PolicySettings(
        path=s.optional_text("path", env="CROSSDOCK_POLICY"),
        mode="reject" if mode == "reject" else "null" if mode == "null" else "hide",
        audit_log=PolicySettings.audit_log if audit is None else (audit or None),
        backend_detail_roles=_roles(s, "backend_detail_roles"),
    )
    s.check_unknown()
    return result


def check_production(auth: AuthSettings) -> None:
    """Production tokens must name who issued them and for whom (`iss`, `aud`)."""
    missing = [name for name in ("issuer", "audience") if getattr(auth, name) is None]
    if missing:
        names = " and ".join(f"auth.{name}" for name in missing)
        envs = " / ".join(f"CROSSDOCK_JWT_{name.upper()}" for name in missing)
        raise SettingsError(
            f"{names} must be set in production, so that a token from another issuer or for "
            f"another service is refused (set {envs} or [auth] {' and '.join(missing)})"
        )
