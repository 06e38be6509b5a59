"""Who is calling: the verified identity that every access decision reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller whose token was verified.

    `scopes` is the effective set: scopes named in the token plus those its roles grant.
    `claims` holds the verified token claims, read by row rules such as
    `Shipment.carrier == claims.partner_id`.
    """

    subject: str | None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    partner_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return self.subject is not None


ANONYMOUS = Principal(subject=None)
