"""The CRM connector for Fxiaoke (纷享销客): auth, limits, wire, mapping behind `FxiaokeCRM`."""

from __future__ import annotations

from resolvers.fxiaoke.connector import FxiaokeCRM
from resolvers.fxiaoke.options import FxiaokeOptions
from resolvers.ports import CrmPort

# mypy proves here that the connector implements its port: a drift is a type error.
_PORT: type[CrmPort] = FxiaokeCRM

__all__ = ["FxiaokeCRM", "FxiaokeOptions"]
