"""The `Ordered_Items` subform of Sales_Orders: row rules and header totals (dialects.md §A.6).

Update rules: rows without an `id` are appended, rows with an `id` are changed in place,
`{"id": …, "_delete": null}` removes one row, and an empty array removes them all.
Input accepts the spellings other sources use (`quantity`, `list_price`, `ListPrice`).
"""

from __future__ import annotations

from typing import Any

from backends.zoho.fields import LINE_ALIASES, LINE_FIELDS
from backends.zoho.validation import FieldChecker, RecordError, invalid, missing

Row = dict[str, Any]
_COMPUTED = ("Total", "Total_After_Discount", "Net_Total")
_HEADER_MONEY = ("Discount", "Tax", "Adjustment")


class Subform:
    """Validates incoming Ordered_Items rows and merges them into the stored ones."""

    def __init__(self, checker: FieldChecker) -> None:
        self.checker = checker

    def merge(self, existing: list[Row], incoming: Any, path: str) -> list[Row]:
        if not isinstance(incoming, list):
            raise invalid("Ordered_Items", path, "subform")
        if not incoming:
            return []
        rows = {row["id"]: dict(row) for row in existing}
        appended: list[Row] = []
        for index, raw in enumerate(incoming):
            row_path = f"{path}[{index}]"
            if not isinstance(raw, dict):
                raise invalid("Ordered_Items", row_path, "jsonobject")
            row_id = raw.get("id")
            if row_id is None:
                appended.append(self._row({}, raw, row_path))
            elif str(row_id) not in rows:
                raise RecordError(
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    api_name="id",
                    json_path=f"{row_path}.id",
                )
            elif "_delete" in raw:
                del rows[str(row_id)]
            else:
                rows[str(row_id)] = self._row(rows[str(row_id)], raw, row_path)
        merged = [*rows.values(), *appended]
        for row in merged:
            row.setdefault("id", self.checker.store.new_id())
        return merged

    def _row(self, current: Row, raw: Row, path: str) -> Row:
        row = dict(current)
        for key, value in raw.items():
            name = LINE_ALIASES.get(key, key)
            if name in ("id", "_delete") or name in _COMPUTED:
                continue
            kind = LINE_FIELDS.get(name)
            if kind is None:
                raise RecordError(
                    "INVALID_DATA", "invalid field", api_name=key, json_path=f"{path}.{key}"
                )
            if name == "Product_Name":
                row[name] = self.checker.lookup("Products", name, value, f"{path}.{key}")
            elif value is not None:
                row[name] = self.checker.scalar(name, kind, value, f"{path}.{key}", None)
        return self._priced(row, path)

    def _priced(self, row: Row, path: str) -> Row:
        if row.get("Product_Name") is None:
            raise missing("Product_Name", f"{path}.Product_Name")
        quantity = row.get("Quantity")
        if quantity is None:
            raise missing("Quantity", f"{path}.Quantity")
        if quantity <= 0:
            raise invalid("Quantity", f"{path}.Quantity", "double")
        if row.get("List_Price") is None:
            product_id = row["Product_Name"]["id"]
            product = self.checker.store.get("Products", [product_id]).get(product_id, {})
            row["List_Price"] = product.get("Unit_Price") or 0
        row.setdefault("Discount", 0)
        row.setdefault("Tax", 0)
        total = round(quantity * row["List_Price"], 2)
        row["Total"] = total
        row["Total_After_Discount"] = round(total - row["Discount"], 2)
        row["Net_Total"] = round(total - row["Discount"] + row["Tax"], 2)
        return row


def apply_totals(doc: dict[str, Any], given: dict[str, Any], *, lines_changed: bool) -> None:
    """Header totals from the rows, unless this write set them explicitly.

    Seeded records may lack totals or carry their own: they are recomputed only when this
    write changed the rows, or when the header has none yet.
    """
    for name in _HEADER_MONEY:
        if not _is_number(doc.get(name)):
            doc[name] = 0
    recompute = lines_changed or not _is_number(doc.get("Sub_Total"))
    if given.get("Sub_Total") is None and recompute:
        doc["Sub_Total"] = round(sum(_net(r) for r in doc.get("Ordered_Items") or []), 2)
    if given.get("Grand_Total") is None and (
        recompute or "Sub_Total" in given or _header_moved(given)
    ):
        grand = doc["Sub_Total"] - doc["Discount"] + doc["Tax"] + doc["Adjustment"]
        doc["Grand_Total"] = round(grand, 2)


def _header_moved(given: dict[str, Any]) -> bool:
    return any(name in given for name in _HEADER_MONEY)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _net(row: Row) -> float:
    if _is_number(row.get("Net_Total")):
        return _number(row, "Net_Total")
    gross = _number(row, "Quantity") * _number(row, "List_Price")
    return gross - _number(row, "Discount") + _number(row, "Tax")


def _number(row: Row, key: str) -> float:
    value = row.get(key)
    return float(value) if isinstance(value, int | float) else 0.0
