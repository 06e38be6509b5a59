"""What one operation may do for one caller, decided once before it executes.

The request pipeline is token → principal → analysis → execution. The gateway turns the token
into a `Principal` when it builds the request's context; before the operation executes, the
access layer (`gateway.access.analysis.analyse_request`) reads its policy once and writes
everything it decided into one frozen `RequestAnalysis`: the rows the caller may see
(`row_filters`), the verdict on every `Type.field` the operation reaches that is not plainly
allowed (`decisions`: denied with the scopes that would allow it, or masked), the denied
response paths, the audited fields, and which fields need the per-field check at all.
From then on everything only reads it: the access extension's field hook, the loaders (row
filters pushed into backend queries), `schema.selection` (no load starts for a denied
field) and the view export, whose pages all run on their export's one analysis.

This module holds the vocabulary (requirements, verdicts, denials) so that `schema/` can read
the analysis without importing `gateway/`; the policy that fills it lives in `gateway.access`.

    analysis.decision("Customer", "email").verdict   # "allow", "mask" or "deny"
    analysis.row_filters                             # {"Shipment": {"carrier": "DHL"}}
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from schema.principal import Principal

# {"Shipment": {"carrier": "DHL"}}: rows a caller may see; a None value means no rows at all.
RowFilters = Mapping[str, Mapping[str, str | None]]
Path = tuple[str, ...]  # a response path: response keys (aliases), no list indices


@dataclass(frozen=True, slots=True)
class Requirement:
    """Alternatives of all-of scope sets: satisfied when any one set is wholly held.

    `Requirement(())` (no alternative) is never satisfied: default deny.
    `Requirement((frozenset(),))` (one empty set) is satisfied by any valid token.
    """

    alternatives: tuple[frozenset[str], ...]

    def satisfied_by(self, scopes: Iterable[str]) -> bool:
        held = frozenset(scopes)
        return any(alt <= held for alt in self.alternatives)

    def both(self, other: Requirement) -> Requirement:
        """The conjunction, kept minimal (no alternative that contains another)."""
        combos = {a | b for a in self.alternatives for b in other.alternatives}
        minimal = [c for c in combos if not any(o < c for o in combos)]
        return Requirement(tuple(sorted(minimal, key=lambda s: (len(s), sorted(s)))))

    def as_lists(self) -> list[list[str]]:
        return [sorted(alt) for alt in self.alternatives]

    def scopes(self) -> frozenset[str]:
        return frozenset().union(*self.alternatives)


NEVER = Requirement(())
AUTHENTICATED = Requirement((frozenset(),))


@dataclass(frozen=True, slots=True)
class FieldDecision:
    """The verdict on one `Type.field` for one principal."""

    verdict: Literal["allow", "mask", "deny"]
    required: Requirement = AUTHENTICATED
    mask: str | None = None


ALLOW = FieldDecision("allow")
DENY = FieldDecision("deny", NEVER)


@dataclass(frozen=True, slots=True)
class Denial:
    """A denied field at its response path (aliases, no list indices)."""

    path: tuple[str, ...]
    coordinate: str
    required: Requirement


@dataclass(frozen=True, slots=True)
class RequestAnalysis:
    """Everything access control decided for one operation of one caller (module docstring).

    `paths` holds the `Type.field` coordinates the operation reaches at each response path
    (None: not walked), `reached` all of them; a denied field's children are not reached.
    `decisions` holds the reached `Type.field` coordinates whose verdict is not "allow";
    `attention` the reached coordinates the field hook must see (denied, masked,
    row-filtered, audited, introspection); `audited` the reached coordinates whose values
    are written to the audit log. `complete` is False when the operation could not be walked
    (no such operation, no root type): then every field is checked, and denied.
    `document` and `operation_name` name what was analysed (None: no operation yet, as for a
    context built without access control), so an analysis made for an export's document
    serves each of its pages.
    """

    principal: Principal
    row_filters: RowFilters = field(default_factory=dict)
    decisions: Mapping[str, FieldDecision] = field(default_factory=dict)
    denials: tuple[Denial, ...] = ()
    attention: frozenset[str] = frozenset()
    audited: frozenset[str] = frozenset()
    complete: bool = True
    paths: Mapping[Path, frozenset[str]] | None = None
    document: str | None = None
    operation_name: str | None = None
    denied: frozenset[str] = field(init=False)
    reached: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        denied = frozenset(c for c, d in self.decisions.items() if d.verdict == "deny")
        object.__setattr__(self, "denied", denied)
        reached = frozenset().union(*self.paths.values()) if self.paths else frozenset()
        object.__setattr__(self, "reached", reached)

    def decision(self, type_name: str, field_name: str) -> FieldDecision:
        """The verdict on `type_name.field_name`: what was decided, else allowed (the walk
        reaches every field the operation can execute); denied when the walk was incomplete."""
        if not self.complete:
            return DENY
        return self.decisions.get(f"{type_name}.{field_name}", ALLOW)

    def needs_hook(self, type_name: str, field_name: str) -> bool:
        """Whether the field hook must see `type_name.field_name` (see `attention`)."""
        return not self.complete or f"{type_name}.{field_name}" in self.attention

    @property
    def plain(self) -> bool:
        """No field of the operation needs the hook: it runs as if there were no policy."""
        return self.complete and not self.attention

    def made_for(self, document: str | None, operation_name: str | None) -> bool:
        """Whether this is the analysis of `document`'s operation `operation_name` (an
        analysis without an operation name serves a document's only operation)."""
        return (
            document is not None
            and self.document == document
            and self.operation_name in (None, operation_name)
        )

    def reads(self, type_name: str, field_name: str) -> bool | None:
        """Whether the operation runs `type_name.field_name` somewhere (reached, not denied):
        what a shared load may fetch for; None when the operation was not walked."""
        if self.paths is None:
            return None
        coordinate = f"{type_name}.{field_name}"
        return coordinate in self.reached and coordinate not in self.denied

    def serving(self, document: str, kept: Collection[Path]) -> RequestAnalysis:
        """This analysis for a copy of its document that keeps only the response paths
        `kept` (a view's query without its denied fields): nothing there is denied, and
        every verdict and filter is the same."""
        paths = None if self.paths is None else {p: c for p, c in self.paths.items() if p in kept}
        return replace(self, denials=(), paths=paths, document=document, operation_name=None)


def unrestricted(
    principal: Principal, document: str | None = None, row_filters: RowFilters | None = None
) -> RequestAnalysis:
    """The analysis of a context without access control (tests, an open gateway): nothing
    denied, masked or audited; only the row filters given, if any."""
    return RequestAnalysis(principal=principal, row_filters=row_filters or {}, document=document)
