"""The CRM connector: Zoho CRM v8 (auth, wire, mapping, writes) behind `ZohoCRM`."""

from __future__ import annotations

from resolvers.ports import CrmPort
from resolvers.zoho.connector import ZohoCRM
from resolvers.zoho.options import ZohoOptions

# mypy proves here that the connector implements its port: a drift is a type error.
_PORT: type[CrmPort] = ZohoCRM

__all__ = ["ZohoCRM", "ZohoOptions"]
