"""A spy on the access policy's computations: how often a request walks its operation, turns
the caller's claims into row filters, and decides each `Type.field`.

The spy wraps the real functions (they still run): `analyse_request` looks `analyse_operation`
and `row_filters` up in its module, and every decision goes through `Decider._decide`.

    spy = AccessSpy.install(monkeypatch)
    ... one request ...
    assert (spy.walks, spy.row_filters) == (1, 1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import GraphQLObjectType

import gateway.access
import gateway.access.analysis
from schema.analysis import FieldDecision


@dataclass
class AccessSpy:
    """Counts since the last `reset`."""

    walks: int = 0  # operations walked: one per RequestAnalysis made
    row_filters: int = 0  # the caller's row filters computed from the policy
    decisions: Counter[str] = field(default_factory=Counter)  # verdicts made, by coordinate

    def reset(self) -> None:
        self.walks = self.row_filters = 0
        self.decisions.clear()

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> AccessSpy:
        spy = cls()
        module = gateway.access.analysis
        monkeypatch.setattr(
            module, "analyse_operation", spy._count("walks", module.analyse_operation)
        )
        monkeypatch.setattr(module, "row_filters", spy._count("row_filters", module.row_filters))
        decide = gateway.access.Decider._decide

        def counted(decider: Any, parent: GraphQLObjectType, name: str) -> FieldDecision:
            spy.decisions[f"{parent.name}.{name}"] += 1
            return decide(decider, parent, name)

        monkeypatch.setattr(gateway.access.Decider, "_decide", counted)
        return spy

    def _count(self, counter: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def spied(*args: Any, **kwargs: Any) -> Any:
            setattr(self, counter, getattr(self, counter) + 1)
            return function(*args, **kwargs)

        return spied
