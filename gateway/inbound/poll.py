"""The catch-up poll: what changed since each source's watermark, read from the backend.

Notifications are hints that can be lost (Zoho does not retry, Frappe gives up after 3
tries), arrive while the gateway is down, or never come (a backend that cannot reach the
gateway, `[inbound] notifications = false`). Every `poll_interval_s` each source is read
from `watermark - poll_overlap_s` (the overlap covers clock skew and a commit that became
visible late), oldest first, and every record becomes a `Change(origin="poll")` with its
modification time as the version, so the inbox keeps one change per key and version
whichever way it arrived. The watermark then moves to the newest time read.

    Zoho      GET /{module}/search?criteria=(Modified_Time:greater_equal:…)
              sort_by=Modified_Time asc; a search stops at 2,000 rows, the next pass goes on
    ERPNext   GET /api/resource/{doctype}?filters=[["modified", ">=", …]]
              order_by=modified asc, paged; a Bin is stock keyed item@warehouse
    Fxiaoke   POST /cgi/crm/v2/data/query by last_modified_time, keyset-paged
              (gateway.inbound.fxiaoke_poll: it has no notifications, this is its only way)

A source's first pass (no watermark yet) starts at `poll_from`: "now" (what changes from
now on) or "beginning" (every record once). A poll sees no deletes: those come only as
notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.inbound.fxiaoke_poll import FxiaokePoll
from gateway.settings.inbound import InboundSettings
from resolvers.canonical import (
    format_naive_datetime,
    format_offset_datetime,
    parse_naive_datetime,
    parse_offset_datetime,
)
from resolvers.erpnext.wire import FrappeWire
from resolvers.sync.change import Change, ChangeSink, Entity
from resolvers.sync.watermarks import WatermarkStore
from resolvers.zoho.mapping import condition
from resolvers.zoho.wire import ZohoWire

logger = logging.getLogger("crossdock.inbound")

ZOHO_SOURCES: dict[str, Entity] = {
    "Accounts": "account",
    "Products": "product",
    "Sales_Orders": "order",
}
ERP_SOURCES: dict[str, Entity] = {
    "Customer": "customer",
    "Item": "item",
    "Sales Order": "sales_order",
    "Shipment": "shipment",
    "Bin": "stock",
}
ZOHO_PAGE = 200
ZOHO_MAX_PAGES = 10  # a search reaches 2,000 rows
ERP_PAGE = 500
ERP_MAX_ROWS = 5000  # per source and pass; the next pass goes on from there
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Read:
    """One record a poll read: its change and its modification time."""

    change: Change
    modified: datetime


def stamp(moment: datetime) -> str:
    """A watermark's text: UTC ISO with microseconds, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class Poller:
    """Reads every source since its watermark and puts the changes (`poll_once`)."""

    def __init__(
        self,
        settings: InboundSettings,
        sink: ChangeSink,
        watermarks: WatermarkStore,
        *,
        zoho: ZohoWire | None,
        frappe: FrappeWire,
        site_tz: ZoneInfo,
        clock: Clock = lambda: datetime.now(UTC),
        fxiaoke: FxiaokePoll | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.watermarks = watermarks
        self.zoho = zoho
        self.frappe = frappe
        self.site_tz = site_tz
        self.clock = clock
        self.fxiaoke = fxiaoke  # the CRM's source when it is Fxiaoke (instead of Zoho)

    async def poll_once(self) -> dict[str, int]:
        """One pass over every source: the number of changes put per source."""
        counts: dict[str, int] = {}
        if self.zoho is not None:
            for module, entity in ZOHO_SOURCES.items():
                counts[f"crm:{module}"] = await self._source(f"crm:{module}", entity, self._zoho)
        if self.fxiaoke is not None:
            counts.update(await self.fxiaoke.poll_once())
        for doctype, entity in ERP_SOURCES.items():
            counts[f"erp:{doctype}"] = await self._source(f"erp:{doctype}", entity, self._erp)
        return counts

    async def _source(self, source: str, entity: Entity, read: Any) -> int:
        stored = await self.watermarks.watermark(source)
        if stored is None:
            if self.settings.poll_from == "now":
                await self.watermarks.set_watermark(source, stamp(self.clock()))
                return 0
            mark = BEGINNING
        else:
            mark = datetime.fromisoformat(stored)
        since = mark - timedelta(seconds=self.settings.poll_overlap_s)
        reads: list[Read] = await read(source.split(":", 1)[1], entity, since)
        for each in reads:
            await self.sink.put(each.change)
        newest = max((r.modified for r in reads), default=None)
        if newest is not None and newest > mark:
            await self.watermarks.set_watermark(source, stamp(newest))
        return len(reads)

    async def _zoho(self, module: str, entity: Entity, since: datetime) -> list[Read]:
        assert self.zoho is not None
        criteria = condition("Modified_Time", "greater_equal", format_offset_datetime(since))
        reads: list[Read] = []
        for page in range(1, ZOHO_MAX_PAGES + 1):
            params = {
                "criteria": criteria,
                "fields": "id,Created_Time,Modified_Time",
                "sort_by": "Modified_Time",
                "sort_order": "asc",
                "per_page": str(ZOHO_PAGE),
                "page": str(page),
            }
            body = await self.zoho.call("GET", f"/{module}/search", params=params)
            rows = (body or {}).get("data") or []
            reads += [r for r in (self._zoho_read(entity, row) for row in rows) if r is not None]
            if not ((body or {}).get("info") or {}).get("more_records"):
                break
        return reads

    def _zoho_read(self, entity: Entity, row: Any) -> Read | None:
        if not isinstance(row, dict):
            return None
        modified = parse_offset_datetime(row.get("Modified_Time"))
        if modified is None or not isinstance(row.get("id"), str):
            return None
        created = parse_offset_datetime(row.get("Created_Time"))
        change = Change(
            system="crm",
            entity=entity,
            record_id=row["id"],
            operation="insert" if created == modified else "update",
            origin="poll",
            received_at=self.clock(),
            version=modified,
        )
        return Read(change, modified)

    async def _erp(self, doctype: str, entity: Entity, since: datetime) -> list[Read]:
        fields = ["name", "creation", "modified"]
        if entity == "stock":
            fields += ["item_code", "warehouse"]
        filters = [["modified", ">=", format_naive_datetime(since, self.site_tz)]]
        reads: list[Read] = []
        offset = 0
        while offset < ERP_MAX_ROWS:
            rows = await self.frappe.get_list(
                doctype, fields, filters, order_by="modified asc", start=offset, limit=ERP_PAGE
            )
            offset += len(rows)
            reads += [r for r in (self._erp_read(entity, row) for row in rows) if r is not None]
            if len(rows) < ERP_PAGE:
                break
        return reads

    def _erp_read(self, entity: Entity, row: dict[str, Any]) -> Read | None:
        modified = parse_naive_datetime(row.get("modified"), self.site_tz)
        if modified is None or not row.get("name"):
            return None
        record_id = str(row["name"])
        if entity == "stock":
            record_id = f"{row.get('item_code')}@{row.get('warehouse')}"
        change = Change(
            system="erp",
            entity=entity,
            record_id=record_id,
            operation="insert" if row.get("creation") == row.get("modified") else "update",
            origin="poll",
            received_at=self.clock(),
            version=modified,
        )
        return Read(change, modified)
