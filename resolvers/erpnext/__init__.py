"""The SCM connector: ERPNext / Frappe (wire, mapping, shipments, stock) behind `ERPNext`."""

from __future__ import annotations

from resolvers.erpnext.connector import ERPNext, ERPNextOptions

__all__ = ["ERPNext", "ERPNextOptions"]
