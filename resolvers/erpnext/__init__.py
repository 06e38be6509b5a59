"""The ERP connector: ERPNext / Frappe (wire, mapping, shipments, stock) behind `ERPNext`."""

from __future__ import annotations

from resolvers.erpnext.connector import ERPNext
from resolvers.erpnext.options import ERPNextOptions
from resolvers.ports import ErpPort

# mypy proves here that the connector implements its port: a drift is a type error.
_PORT: type[ErpPort] = ERPNext

__all__ = ["ERPNext", "ERPNextOptions"]
