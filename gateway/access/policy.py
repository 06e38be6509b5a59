"""The access policy: roles → scopes, type and field rules, masks, row rules, audited fields.

A policy is data (TOML, see `policy_default.toml` for the format and the shipped default)
read once at startup and checked against the schema by `gateway.access.policy_check`.
Decisions are made elsewhere (`gateway.access`) by one mechanism reading this data.

Example::

    policy = Policy.load(None)              # the shipped default
    check_policy(policy, schema._schema)    # policy_check: PolicyError naming rule and fix
    policy.field_requirement("Customer", "email").satisfied_by({"crm:read"})  # False
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema

from gateway.toml_files import read_toml
from resolvers.errors import CrossdockError
from schema.analysis import AUTHENTICATED, NEVER, Requirement

ROOT_TYPES = ("Query", "Mutation", "Subscription")


class PolicyError(CrossdockError):
    """The policy file is malformed or does not fit the schema; the message names the fix."""

    code = "POLICY_ERROR"


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What one field needs beyond its type's rule, and the mask used instead of null."""

    requires: Requirement
    mask: str | None = None
    optional: bool = False
    mask_roles: frozenset[str] = frozenset()  # empty: the mask serves every caller lacking scopes


@dataclass(frozen=True, slots=True)
class TypeRule:
    """The rule of one object type and of its listed fields."""

    requires: Requirement
    fields: Mapping[str, FieldRule] = field(default_factory=dict)
    optional: bool = False


@dataclass(frozen=True, slots=True)
class RowRule:
    """`type.field == claims[claim]` for callers holding any of `roles` (every caller if empty)."""

    type: str
    field: str
    claim: str
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    """A loaded access policy. Build with `Policy.load(path)` or `Policy.from_mapping(data)`."""

    scopes: frozenset[str]
    roles: Mapping[str, frozenset[str]]
    types: Mapping[str, TypeRule]
    inherit: tuple[str, ...] = ()
    row_rules: tuple[RowRule, ...] = ()
    audit_fields: frozenset[str] = frozenset()
    source: str = "<policy>"

    @classmethod
    def load(cls, path: str | Path | None = None) -> Policy:
        """Read a TOML policy; `None` reads the default shipped in the package."""
        data, source = read_toml(
            path, ("gateway.access", "policy_default.toml"), PolicyError, "policy file"
        )
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "<policy>") -> Policy:
        try:
            return _parse(cls, data, source)
        except (TypeError, ValueError, KeyError) as err:
            raise PolicyError(f"{source}: {err}") from err

    def scopes_of_roles(self, roles: Iterable[str]) -> frozenset[str]:
        """The scopes granted by `roles`; unknown roles grant nothing."""
        return frozenset().union(*(self.roles.get(r, frozenset()) for r in roles))

    def is_inherit(self, type_name: str) -> bool:
        return any(fnmatch.fnmatchcase(type_name, p) for p in self.inherit)

    def type_requirement(self, type_name: str) -> Requirement | None:
        """The type's own rule; `None` means it follows its parent (inherit)."""
        rule = self.types.get(type_name)
        if rule is not None:
            return rule.requires
        return None if self.is_inherit(type_name) else NEVER

    def field_rule(self, type_name: str, field_name: str) -> FieldRule | None:
        rule = self.types.get(type_name)
        return None if rule is None else rule.fields.get(field_name)

    def field_requirement(self, type_name: str, field_name: str) -> Requirement:
        """Parent type rule ∧ field rule. Root fields without a rule are denied."""
        own = self.type_requirement(type_name) or AUTHENTICATED
        rule = self.field_rule(type_name, field_name)
        if rule is None:
            return NEVER if type_name in ROOT_TYPES else own
        return own.both(rule.requires)

    def mask_for(self, type_name: str, field_name: str) -> str | None:
        rule = self.field_rule(type_name, field_name)
        return None if rule is None else rule.mask


def root_aliases(schema: GraphQLSchema) -> dict[str, str]:
    """Schema root type names → the policy's names for them (`OrderMutations` → `Mutation`)."""
    types = (schema.query_type, schema.mutation_type, schema.subscription_type)
    roots = zip(ROOT_TYPES, types, strict=True)
    return {t.name: alias for alias, t in roots if t is not None}


def mask_email(value: str) -> str:
    """`jane.doe@example.com` → `j***@example.com`; anything else → `***`."""
    local, at, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if at and local else "***"


def mask_redact(value: str) -> str:
    return "***"


MASKS: Mapping[str, Callable[[str], str]] = {"email": mask_email, "redact": mask_redact}


def _requirement(value: Any, where: str) -> Requirement:
    if value == "authenticated":
        return AUTHENTICATED
    if not isinstance(value, list) or not all(isinstance(alt, list) for alt in value):
        raise ValueError(
            f'{where}.requires must be "authenticated" or a list of scope lists, '
            f'e.g. [["pii:read"], ["address:read"]]'
        )
    return Requirement(tuple(frozenset(str(s) for s in alt) for alt in value))


def _field_rule(value: Any, where: str) -> FieldRule:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a table like {{ requires = [[...]] }}")
    unknown = set(value) - {"requires", "mask", "mask_roles", "optional"}
    if unknown:
        keys = "requires, mask, mask_roles, optional"
        raise ValueError(f"{where} has unknown keys {sorted(unknown)}; use {keys}")
    requires = _requirement(value["requires"], where) if "requires" in value else AUTHENTICATED
    mask = value.get("mask")
    optional = bool(value.get("optional", False))
    mask_roles = frozenset(str(r) for r in value.get("mask_roles", ()))
    return FieldRule(requires, None if mask is None else str(mask), optional, mask_roles)


def _type_rule(name: str, value: Any) -> TypeRule:
    where = f"types.{name}"
    if not isinstance(value, Mapping) or "requires" not in value:
        raise ValueError(f"{where} needs requires = [[...]] (or list it under [inherit] types)")
    fields = _table(value.get("fields", {}), f"{where}.fields")
    rules = {f: _field_rule(v, f"{where}.fields.{f}") for f, v in fields.items()}
    optional = bool(value.get("optional", False))
    return TypeRule(_requirement(value["requires"], where), rules, optional)


def _row_rule(value: Any) -> RowRule:
    value = _table(value, "each [[row_rules]] entry")
    missing = [key for key in ("type", "field", "claim") if key not in value]
    if missing:
        needs = "give type, field, claim"
        raise ValueError(f"a [[row_rules]] entry lacks {', '.join(missing)}; {needs}")
    roles = frozenset(str(r) for r in value.get("roles", ()))
    return RowRule(str(value["type"]), str(value["field"]), str(value["claim"]), roles)


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a table, not {type(value).__name__}")
    return value


def _parse(cls: type[Policy], data: Mapping[str, Any], source: str) -> Policy:
    unknown = set(data) - {"scopes", "roles", "inherit", "types", "row_rules", "audit"}
    if unknown:
        raise ValueError(f"unknown top-level keys {sorted(unknown)}")
    roles = _table(data["roles"], "[roles]")
    types = _table(data.get("types", {}), "[types]")
    return cls(
        scopes=frozenset(data["scopes"]),
        roles={name: frozenset(str(s) for s in scopes) for name, scopes in roles.items()},
        types={name: _type_rule(name, value) for name, value in types.items()},
        inherit=tuple(
            str(t) for t in _table(data.get("inherit", {}), "[inherit]").get("types", ())
        ),
        row_rules=tuple(_row_rule(r) for r in data.get("row_rules", ())),
        audit_fields=frozenset(
            str(f) for f in _table(data.get("audit", {}), "[audit]").get("fields", ())
        ),
        source=source,
    )
