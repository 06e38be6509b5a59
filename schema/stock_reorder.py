"""ERPNext's re-order levels on `StockLevel`: `reorderLevel`, `reorderQuantity`,
`belowReorderLevel`.

They come from the Item's `reorder_levels` rows (`Item Reorder`: per warehouse a level and a
quantity to order), read for every StockLevel of the operation with one loader call (one
ERPNext call per 200 SKUs), never one per product or warehouse. "Below" is ERPNext's own
auto re-order rule (erpnext/stock/reorder_item.py): a row with a level or a quantity, and the
projected quantity at or below the level, is what makes ERPNext raise a Material Request.
ERPNext checks the projected quantity of the row's `warehouse_group`; a row checked in
another warehouse than its own (a group) has no verdict here (null): Crossdock does not
add up the warehouse tree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from resolvers import records
from schema.context import Info

Rule = records.ReorderLevel | None


class StockLevel(Protocol):
    """What these fields read of their parent (schema.products.StockLevel): its Bin."""

    @property
    def record(self) -> records.StockLevel: ...


async def _rules(levels: Sequence[StockLevel], info: Info) -> list[Rule]:
    skus = list(dict.fromkeys(level.record.sku for level in levels))
    found = await info.context.loaders.reorder_levels.load_many(skus)
    by_bin = {(r.sku, r.warehouse_id): r for rows in found for r in rows or []}
    return [by_bin.get((level.record.sku, level.record.warehouse_id)) for level in levels]


async def _each(levels: Sequence[StockLevel], info: Info, answer: Any) -> list[Any]:
    rules = await _rules(levels, info)
    return [answer(level.record, rule) for level, rule in zip(levels, rules, strict=True)]


def reorder_levels(levels: Sequence[StockLevel], info: Info) -> Awaitable[list[Any]]:
    return _each(levels, info, lambda _, rule: None if rule is None else float(rule.level))


def reorder_quantities(levels: Sequence[StockLevel], info: Info) -> Awaitable[list[Any]]:
    return _each(levels, info, lambda _, rule: None if rule is None else float(rule.quantity))


def below_reorder_levels(levels: Sequence[StockLevel], info: Info) -> Awaitable[list[Any]]:
    return _each(levels, info, is_below)


def is_below(stock: records.StockLevel, rule: Rule) -> bool | None:
    """ERPNext's verdict for this Bin: False without a level, None when checked elsewhere."""
    return False if rule is None else rule.below(stock)
