"""Shipments from ERPNext: status filters and the batched assembly of lines and destinations.

A batch of shipment rows becomes canonical Shipments with three more calls whatever its size:
`Shipment Delivery Note` and `Delivery Note Item` (child listings with `parent=`) and
`Address`. The canonical status filter becomes Frappe filters that select at least the
wanted rows (tracking status wins over status, §B.6); callers re-check the mapped status.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from resolvers.erpnext.mapping import (
    ADDRESS_FIELDS,
    shipment_lines,
    shipment_status,
    to_address,
    to_shipment,
)
from resolvers.erpnext.wire import Doc, Filter, FrappeWire
from resolvers.records import Shipment, ShipmentStatus

if TYPE_CHECKING:
    from resolvers.erpnext.options import ERPNextOptions


class ShipmentAssembler:
    """Turns Shipment rows into canonical Shipments, fetching their parts in batches."""

    def __init__(self, wire: FrappeWire, *, options: ERPNextOptions, tz: ZoneInfo) -> None:
        self.wire = wire
        self.options = options
        self.tz = tz

    def status_filters(self, status: ShipmentStatus | None) -> tuple[list[Filter], list[Filter]]:
        """(AND filters, OR filters) that select at least the shipments with `status`."""
        if status is None:
            return [], []
        if status in (ShipmentStatus.DRAFT, ShipmentStatus.CANCELLED):
            return [["docstatus", "=", 0 if status is ShipmentStatus.DRAFT else 2]], []
        tracked = [k for k, v in self.options.tracking_statuses.items() if v == status]
        plain = [k for k, v in self.options.shipment_statuses.items() if v == status]
        alternatives = [["tracking_status", "in", tracked]] if tracked else []
        alternatives += [["status", "in", plain]] if plain else []
        if not alternatives:
            return [["name", "=", ""]], []  # nothing maps to it: match nothing, cheaply
        return [["docstatus", "!=", 2]], alternatives

    async def assemble(
        self,
        rows: Sequence[Doc],
        carrier: str | None,
        *,
        with_destination: bool = True,
        with_lines: bool = True,
    ) -> list[Shipment]:
        """Shipments with their lines; `with_destination=False` skips the Address call,
        `with_lines=False` the two delivery-note calls (the shipments' lines stay empty)."""
        if carrier is not None:  # re-check: `=` may be case-insensitive on the server
            rows = [r for r in rows if r.get("carrier") == carrier]
        if not rows:
            return []
        names = [str(r["name"]) for r in rows]
        addresses = [
            str(r["delivery_address_name"]) for r in rows if r.get("delivery_address_name")
        ]
        if not with_destination:
            addresses = []
        links, places = await asyncio.gather(
            self.wire.in_list(
                "Shipment Delivery Note",
                "parent",
                names if with_lines else [],
                ("parent", "delivery_note", "idx"),
                parent="Shipment",
            ),
            self.wire.in_list("Address", "name", addresses, ADDRESS_FIELDS),
        )
        notes = [str(link["delivery_note"]) for link in links if link.get("delivery_note")]
        items = await self.wire.in_list(
            "Delivery Note Item",
            "parent",
            notes,
            ("parent", "item_code", "qty", "idx"),
            parent="Delivery Note",
        )
        notes_of: dict[Any, set[Any]] = defaultdict(set)
        for link in links:
            notes_of[link.get("parent")].add(link.get("delivery_note"))
        items_of: dict[Any, list[Doc]] = defaultdict(list)
        for item in items:
            items_of[item.get("parent")].append(item)
        place_of = {place.get("name"): place for place in reversed(places)}  # the first wins
        return [self._shipment(r, notes_of, items_of, place_of) for r in rows]

    def _shipment(
        self,
        row: Doc,
        notes_of: Mapping[Any, set[Any]],
        items_of: Mapping[Any, list[Doc]],
        place_of: Mapping[Any, Doc],
    ) -> Shipment:
        notes = notes_of.get(row["name"], set())
        dn_rows = sorted(
            (i for note in notes for i in items_of.get(note, ())),
            key=lambda i: (str(i.get("parent")), int(i.get("idx") or 0)),
        )
        address = place_of.get(row.get("delivery_address_name"))
        opts = self.options
        return to_shipment(
            row,
            status=shipment_status(row, opts.shipment_statuses, opts.tracking_statuses),
            tz=self.tz,
            currency=opts.company_currency,
            lines=shipment_lines(dn_rows),
            destination=to_address(address) if address else None,
        )
