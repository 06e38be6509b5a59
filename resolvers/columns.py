"""Which backend columns a read asks for: the record attributes its request needs.

A read that fills a whole record asks the backend for every column the record can hold. A
GraphQL request usually needs a few attributes (an order list with numbers and totals needs
no `Subject`, no timestamps): its resolvers compute once, from the operation's selection,
the attributes (`Wanted`) it needs of each record type, and the connectors map them to their
own columns through a table per record type (`ColumnTable`). The attributes are part of
what a loader batches on (`resolvers.loaders.Loaders.orders_for`), so two selections never
share a narrowed read.

`None` means every attribute, the default of every connector method: the saga, sync,
reconciliation and anything else that reads records in full never pass a narrowed set.
A record type's *base* columns are always asked (the record cannot be built without them,
e.g. an order's status).

    table = ColumnTable(full=ORDER_FIELDS, base=("Status",),
                        columns={"total": ("Grand_Total", "Currency")})
    table.select(frozenset({"total"}))   # ("Status", "Grand_Total", "Currency")
    table.select(None)                   # ORDER_FIELDS, as every full read asks
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The record attributes a read must fill; None: all of them (the record in full).
Wanted = frozenset[str] | None


@dataclass(frozen=True)
class ColumnTable:
    """One record type's columns at one backend: the full list, the base, and the columns
    each attribute is made from.

    An attribute missing from `columns` is unknown here: a set that names one is read in
    full, so a new attribute is never silently left empty.
    """

    full: tuple[str, ...]
    base: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    _memo: dict[Wanted, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def select(self, wanted: Wanted) -> tuple[str, ...]:
        """The columns to ask for `wanted`, base first, each once, in the table's order."""
        found = self._memo.get(wanted)
        if found is None:
            found = self._memo[wanted] = self._select(wanted)
        return found

    def _select(self, wanted: Wanted) -> tuple[str, ...]:
        if self.is_full(wanted):
            return self.full
        assert wanted is not None  # for mypy: is_full covers None
        named = [c for name, columns in self.columns.items() if name in wanted for c in columns]
        return tuple(dict.fromkeys([*self.base, *named]))

    def is_full(self, wanted: Wanted) -> bool:
        return wanted is None or not wanted <= self.columns.keys()
