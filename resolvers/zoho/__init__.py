"""The CRM connector: Zoho CRM v8 (auth, wire, mapping, writes) behind `ZohoCRM`."""

from __future__ import annotations

from resolvers.zoho.connector import ZohoCRM, ZohoOptions

__all__ = ["ZohoCRM", "ZohoOptions"]
