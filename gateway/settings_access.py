"""The `[auth]` and `[policy]` settings sections: how tokens are verified, which policy applies.

    [auth]     algorithms, hs256_secret (CROSSDOCK_JWT_SECRET), public_key_pem_file, jwks_url,
               issuer, audience, leeway_s, scope_claims, roles_claim, partner_claim
    [policy]   path (default: the shipped policy), mode ("null" | "reject"), audit_log

In development a missing HS256 secret falls back to the published demo secret, so tokens from
`crossdock token` work out of the box; production refuses both (`check_production`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gateway.auth import AuthConfigError, AuthSettings
from gateway.settings_section import Section, SettingsError, Table
from gateway.tokens import DEMO_SECRET, is_demo_secret

SECRET_ENV = "CROSSDOCK_JWT_SECRET"  # noqa: S105 - the name of the variable, not a secret
Environment = Literal["development", "production"]
PolicyMode = Literal["null", "reject"]


@dataclass(frozen=True)
class PolicySettings:
    """Which access policy applies, what a denied field does, where sensitive reads are logged.

    `path` None means the policy shipped in the package; `audit_log` None turns auditing off.
    """

    path: str | None = None
    mode: PolicyMode = "null"
    audit_log: str | None = "audit.log"


def _strings(s: Section, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = s.raw(key)
    if value is None:
        return default
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{s.name}.{key} must be a non-empty list of strings, got {value!r}")
    return tuple(value)


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


def parse_auth(table: Table, env: Mapping[str, str], environment: Environment) -> AuthSettings:
    """The `[auth]` section; AuthSettings' own checks become SettingsErrors."""
    s = Section("auth", table, env)
    base = AuthSettings(hs256_secret=DEMO_SECRET)
    algorithms = _strings(s, "algorithms", base.algorithms)
    secret = s.optional_text("hs256_secret", env=SECRET_ENV)
    if secret is None and "HS256" in algorithms and environment == "development":
        secret = DEMO_SECRET
    try:
        result = AuthSettings(
            algorithms=algorithms,
            hs256_secret=secret,
            public_key_pem=_pem(s),
            jwks_url=s.optional_text("jwks_url", env="CROSSDOCK_JWKS_URL"),
            issuer=s.optional_text("issuer", env="CROSSDOCK_JWT_ISSUER"),
            audience=s.optional_text("audience", env="CROSSDOCK_JWT_AUDIENCE"),
            leeway_s=s.integer("leeway_s", base.leeway_s),
            scope_claims=_strings(s, "scope_claims", base.scope_claims),
            roles_claim=s.text("roles_claim", base.roles_claim),
            partner_claim=s.text("partner_claim", base.partner_claim),
        )
    except AuthConfigError as exc:
        hint = f" (set {SECRET_ENV} or [auth] hs256_secret)" if "hs256_secret" in str(exc) else ""
        raise SettingsError(f"{exc}{hint}") from None
    s.check_unknown()
    return result


def parse_policy(table: Table, env: Mapping[str, str]) -> PolicySettings:
    """The `[policy]` section."""
    s = Section("policy", table, env)
    audit = s.raw("audit_log", "CROSSDOCK_AUDIT_LOG")
    if audit is not None and not isinstance(audit, str):
        raise SettingsError(f'policy.audit_log must be a path or "" (off), got {audit!r}')
    mode = s.choice("mode", "null", ("null", "reject"))
    result = PolicySettings(
        path=s.optional_text("path", env="CROSSDOCK_POLICY"),
        mode="reject" if mode == "reject" else "null",
        audit_log=PolicySettings.audit_log if audit is None else (audit or None),
    )
    s.check_unknown()
    return result


def check_production(auth: AuthSettings) -> None:
    """Production refuses the published demo secret, whatever else is configured."""
    if is_demo_secret(auth.hs256_secret):
        raise SettingsError(
            f"auth.hs256_secret is the public demo secret, refused in production "
            f"(set {SECRET_ENV} to at least 32 random bytes, or [server] environment = "
            '"development")'
        )
