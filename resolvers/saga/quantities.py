"""What an order may ask for: quantities and order value within limits from configuration.

    limits = OrderLimits.from_mapping({"max_line_quantity": 500, "max_order_value": "250000"})
    check_line_quantities(lines, limits)          # before any backend call
    check_whole_units(lines, uoms, whole)         # once the ERP said which UOMs count units
    check_order_value(total, currency, limits)    # once the CRM priced the lines

A quantity is positive, at most `max_line_quantity`, and has at most `quantity_decimals`
decimals (Frappe's default float precision is 3); for an item whose stock UOM has
`must_be_whole_number` (such as Nos) it is a whole number. Errors name the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from resolvers.errors import InvalidInput

from .state import LineInput


@dataclass(frozen=True, slots=True)
class OrderLimits:
    """The `[saga.limits]` section; the defaults are deliberately modest."""

    max_line_quantity: Decimal = Decimal(10_000)
    max_order_value: Decimal = Decimal(1_000_000)
    quantity_decimals: int = 3

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> OrderLimits:
        known = {"max_line_quantity", "max_order_value", "quantity_decimals"}
        unknown = set(values) - known
        if unknown:
            raise ValueError(
                f"unknown saga.limits key(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        decimals = values.get("quantity_decimals", 3)
        if not isinstance(decimals, int) or not 0 <= decimals <= 9:
            raise ValueError("saga.limits.quantity_decimals must be an integer from 0 to 9")
        return cls(
            max_line_quantity=_positive(values, "max_line_quantity", _DEFAULT.max_line_quantity),
            max_order_value=_positive(values, "max_order_value", _DEFAULT.max_order_value),
            quantity_decimals=decimals,
        )


_DEFAULT = OrderLimits()


def _positive(values: Mapping[str, Any], key: str, default: Decimal) -> Decimal:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise ValueError(f"saga.limits.{key} must be a positive number, got {raw!r}")
    return value


def decimals_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_line_quantities(lines: Sequence[LineInput], limits: OrderLimits) -> None:
    for i, line in enumerate(lines):
        q = line.quantity
        where = f"lines[{i}].quantity"
        if not q.is_finite() or not 0 < q <= limits.max_line_quantity:
            raise InvalidInput(
                f"{where} must be positive and at most {limits.max_line_quantity} "
                f"(saga.limits.max_line_quantity), got {q}"
            )
        if decimals_of(q) > limits.quantity_decimals:
            raise InvalidInput(
                f"{where} has more than {limits.quantity_decimals} decimals "
                f"(saga.limits.quantity_decimals), got {q}"
            )


def check_whole_units(
    lines: Sequence[LineInput], uoms: Mapping[str, str | None], whole: Mapping[str, bool]
) -> None:
    """`uoms`: the stock UOM per SKU; `whole`: must_be_whole_number per UOM."""
    for i, line in enumerate(lines):
        uom = uoms.get(line.sku) or "Nos"
        if whole.get(uom, True) and line.quantity != line.quantity.to_integral_value():
            raise InvalidInput(
                f"lines[{i}].quantity must be a whole number of {uom} for {line.sku}, "
                f"got {line.quantity}"
            )


def check_order_value(total: Decimal, currency: str, limits: OrderLimits) -> None:
    if total > limits.max_order_value:
        raise InvalidInput(
            f"the order total {total} {currency} exceeds the maximum order value "
            f"{limits.max_order_value} (saga.limits.max_order_value); split or reduce the lines"
        )
