"""The hardening settings sections: `[limits]`, `[rate_limits]`, `[trusted_documents]`,
and the `[crm.protection]` / `[scm.protection]` tables of the backends.

[limits]                      # one operation; every key also per role in [limits.roles.<role>]
max_depth = 12                # QUERY_TOO_DEEP
max_aliases = 30              # TOO_MANY_ALIASES
max_root_fields = 20          # TOO_MANY_ROOT_FIELDS
max_tokens = 5000             # QUERY_TOO_LARGE
max_cost = 250000             # QUERY_TOO_COMPLEX
default_list_size = 20        # cost multiplier of a list field without `first`
max_batch = 0                 # BATCH_TOO_LARGE (checked before authentication: not per role)
max_body_bytes = 1000000      # REQUEST_TOO_LARGE (checked before authentication: not per role)

[rate_limits]                 # token buckets per subject and per partner; RATE_LIMITED, 429
enabled = true                # false: no rate limit at all (failed_auth included)
default = { per_second = 20, burst = 40 }
failed_auth = { per_second = 1, burst = 20 }  # failed authentications per client address,
                              # checked before verifying a token; false: off
[rate_limits.roles.partner]
per_second = 5
burst = 10

[trusted_documents]
manifest = "operations.json"  # id → document, or an apollo-persisted-query-manifest
persisted_only_roles = ["partner"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from gateway.protection.limits import LimitPolicy, Limits
from gateway.protection.ratelimit import Rate
from gateway.protection.trusted import Manifest, ManifestError, TrustedDocuments
from gateway.settings.section import Section, SettingsError, Table
from resolvers.breaker import Protection

_PRE_AUTH = ("max_batch", "max_body_bytes")
# One operation per request (the schema does not batch); a cost that lets a page of
# `max_first` (200) orders with their lines, products and shipments through.
_DEFAULT_LIMITS = Limits(max_batch=0, max_cost=250_000)
# A client mistyping or replaying a stale token a few times is never slowed down; a flood
# of bad tokens gets one signature check per second per address.
_FAILED_AUTH = Rate(per_second=1.0, burst=20.0)


@dataclass(frozen=True)
class RateLimitSettings:
    """Token-bucket rates: `default` for every caller, `roles` for the callers of a role,
    `failed_auth` for the failed authentications of one client address (None: off)."""

    enabled: bool = True
    default: Rate = field(default_factory=lambda: Rate(per_second=20.0, burst=40.0))
    roles: Mapping[str, Rate] = field(default_factory=dict)
    failed_auth: Rate | None = field(default_factory=lambda: _FAILED_AUTH)


@dataclass(frozen=True)
class TrustedDocumentSettings:
    """The persisted-operation manifest (None: off) and the roles held to it."""

    manifest: str | None = None
    persisted_only_roles: tuple[str, ...] = ()

    def load(self) -> TrustedDocuments | None:
        """The manifest as TrustedDocuments, or None; a bad file is a SettingsError."""
        if self.manifest is None:
            return None
        try:
            manifest = Manifest.load(Path(self.manifest))
        except ManifestError as exc:
            raise SettingsError(f"trusted_documents.manifest {exc}") from None
        return TrustedDocuments(manifest, persisted_only_roles=self.persisted_only_roles)


def _limits(s: Section, base: Limits, *, role: bool) -> Limits:
    values: dict[str, int] = {}
    for f in fields(Limits):
        if role and f.name in _PRE_AUTH:
            if s.raw(f.name) is not None:
                raise SettingsError(
                    f"{s.name}.{f.name} cannot differ by role: it is checked before the "
                    f"caller is known; set it in [limits]"
                )
            continue
        values[f.name] = s.integer(f.name, getattr(base, f.name))
    limits = Limits(**{**{f.name: getattr(base, f.name) for f in fields(Limits)}, **values})
    s.check_unknown()
    return limits


def parse_limits(table: Table, env: Mapping[str, str]) -> LimitPolicy:
    """`[limits]` and its `[limits.roles.<role>]` overrides (unset keys: the [limits] value)."""
    s = Section("limits", {k: v for k, v in table.items() if k != "roles"}, env)
    default = _limits(s, _DEFAULT_LIMITS, role=False)
    roles = Section("limits", table, env).table_of("roles")
    by_role = {}
    for role, override in roles.items():
        if not isinstance(override, Mapping):
            raise SettingsError(f"[limits.roles.{role}] must be a table")
        by_role[role] = _limits(Section(f"limits.roles.{role}", override, env), default, role=True)
    return LimitPolicy(default=default, by_role=by_role)


def _rate(name: str, value: object) -> Rate:
    if not isinstance(value, Mapping):
        raise SettingsError(f"{name} must be a table {{ per_second = 5, burst = 10 }}")
    s = Section(name, value, {})
    per_second = s.number("per_second", 0.0)
    burst = s.number("burst", 0.0)
    s.check_unknown()
    if per_second <= 0 or burst < 1:
        raise SettingsError(
            f"{name} needs per_second > 0 and burst >= 1, got {per_second} and {burst}"
        )
    return Rate(per_second=per_second, burst=burst)


def parse_rate_limits(table: Table, env: Mapping[str, str]) -> RateLimitSettings:
    """`[rate_limits]`: enabled, default and failed_auth = {per_second, burst} (failed_auth
    may be false), [rate_limits.roles.<role>]."""
    s = Section("rate_limits", table, env)
    base = RateLimitSettings()
    enabled = s.flag("enabled", True)
    default = base.default
    if s.raw("default") is not None:
        default = _rate("rate_limits.default", s.raw("default"))
    roles = {
        role: _rate(f"rate_limits.roles.{role}", value)
        for role, value in s.table_of("roles").items()
    }
    failed_auth = _failed_auth(s.raw("failed_auth"))
    s.check_unknown()
    return RateLimitSettings(enabled=enabled, default=default, roles=roles, failed_auth=failed_auth)


def _failed_auth(value: object) -> Rate | None:
    if value is None or value is True:
        return _FAILED_AUTH
    if value is False:
        return None
    if not isinstance(value, Mapping):
        raise SettingsError(
            "rate_limits.failed_auth must be a table { per_second = 1, burst = 20 } "
            f"or false (to turn it off), got {value!r}"
        )
    return _rate("rate_limits.failed_auth", value)


def parse_trusted_documents(table: Table, env: Mapping[str, str]) -> TrustedDocumentSettings:
    """`[trusted_documents]`: manifest (CROSSDOCK_TRUSTED_MANIFEST), persisted_only_roles."""
    s = Section("trusted_documents", table, env)
    manifest = s.optional_text("manifest", env="CROSSDOCK_TRUSTED_MANIFEST")
    roles = s.raw("persisted_only_roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        raise SettingsError(
            f"trusted_documents.persisted_only_roles must be a list of role names, got {roles!r}"
        )
    s.check_unknown()
    if roles and manifest is None:
        raise SettingsError(
            "trusted_documents.persisted_only_roles needs a manifest "
            "(set [trusted_documents] manifest or CROSSDOCK_TRUSTED_MANIFEST)"
        )
    return TrustedDocumentSettings(manifest=manifest, persisted_only_roles=tuple(roles))


def parse_protection(section: Section) -> Protection:
    """The `[<backend>.protection]` table: circuit breaker and retry budget knobs."""
    table = section.table_of("protection")
    s = Section(f"{section.name}.protection", table, {})
    base = Protection()
    protection = Protection(
        failure_threshold=s.integer("failure_threshold", base.failure_threshold, low=1),
        window_s=s.number("window_s", base.window_s),
        cooldown_s=s.number("cooldown_s", base.cooldown_s),
        half_open_probes=s.integer("half_open_probes", base.half_open_probes, low=1),
        retry_budget_ratio=s.number("retry_budget_ratio", base.retry_budget_ratio),
        retry_budget_min_per_s=s.number("retry_budget_min_per_s", base.retry_budget_min_per_s),
        enabled=s.flag("enabled", base.enabled),
    )
    s.check_unknown()
    return protection
