"""The Fxiaoke side of the catch-up poll: Fxiaoke has no change notifications, so this is
how CRM changes are heard when `[crm] kind = "fxiaoke"` (dialects.md §C, integration-notes §1).

Each object (`AccountObj`, `ProductObj`, `SalesOrderObj`) is read by `last_modified_time`
(epoch ms) through the connector's wire, so its per-interface limiter and daily quota count
every call. Pages are of 100 (the `limit` ceiling), offset 0, ordered by
`last_modified_time` then `_id`, and walked by a **keyset** `(ms, _id)`:

    unread = last_modified_time > ms  OR  (last_modified_time = ms AND _id > after)

Filters are ANDed (no OR), so one position costs at most two queries: the rest of its own
millisecond (`last_modified_time EQ ms`, `_id GT after`, by `_id`), then everything later
(`last_modified_time GT ms`, by time then `_id`). Many records sharing one millisecond across
a page boundary are therefore neither lost (a plain `GT ms` would skip them) nor read twice
(a plain `GTE ms` would repeat them, forever past 100 of them).

The position is the watermark, kept in the same store as the other sources' (the sync inbox
when `[sync]` is on): `<UTC ISO of ms>#<_id>`, text order being keyset order for the
tenant's fixed-length ids; `#` alone means "from that millisecond on". It is saved after
every page, once the page's changes are put, so a pass stopped by the quota or an outage
resumes where it stopped. With `poll_overlap_s > 0` a pass starts that far before the
watermark (commits that became visible late); what it reads again the inbox already holds
(one change per key and version). At most `max_rows` records past the watermark are read
per source and pass; the next pass goes on from there.

Voided records (`data/invalid`) leave Fxiaoke's queries, so the poll does not see them, as
Zoho's poll sees no deletes; reconciliation reports what is left over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.settings.inbound import InboundSettings
from resolvers.fxiaoke.wire import PAGE_MAX, FxWire, Record, flt
from resolvers.sync.change import Change, ChangeSink, Entity
from resolvers.sync.watermarks import WatermarkStore

logger = logging.getLogger("crossdock.inbound")

FX_SOURCES: dict[str, Entity] = {
    "AccountObj": "account",
    "ProductObj": "product",
    "SalesOrderObj": "order",
}
FX_MAX_ROWS = 5000  # new records per source and pass
MODIFIED = "last_modified_time"
PROJECTION = ("_id", "create_time", MODIFIED)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BEGINNING_MS = 946_684_800_000  # 2000-01-01T00:00:00Z, as the other sources' "beginning"
Clock = Callable[[], datetime]


def to_ms(moment: datetime) -> int:
    return (moment.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True, order=True)
class Position:
    """Everything after `(ms, after)` in (last_modified_time, _id) order is unread; an empty
    `after` means the whole millisecond `ms` is unread."""

    ms: int
    after: str = ""

    def text(self) -> str:
        return from_ms(self.ms).isoformat(timespec="microseconds") + "#" + self.after

    @classmethod
    def parse(cls, text: str) -> Position:
        moment, _, after = text.partition("#")
        return cls(to_ms(datetime.fromisoformat(moment)), after)

    def behind(self, row: Position) -> bool:
        """Whether `row` (a record's ms and _id) is past this position (unread by it)."""
        return row.ms > self.ms or (row.ms == self.ms and row.after > self.after)


class FxiaokePoll:
    """Reads the Fxiaoke objects since their watermarks and puts `Change(origin="poll")`s."""

    def __init__(
        self,
        settings: InboundSettings,
        sink: ChangeSink,
        watermarks: WatermarkStore,
        wire: FxWire,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        max_rows: int = FX_MAX_ROWS,
    ) -> None:
        self.settings, self.sink, self.watermarks, self.wire = settings, sink, watermarks, wire
        self.clock, self.max_rows = clock, max_rows

    async def poll_once(self) -> dict[str, int]:
        """One pass over the three objects: the number of records read per source."""
        counts: dict[str, int] = {}
        for api_name, entity in FX_SOURCES.items():
            counts[f"crm:{api_name}"] = await self.poll_source(api_name, entity)
        return counts

    async def poll_source(self, api_name: str, entity: Entity) -> int:
        source = f"crm:{api_name}"
        stored = await self.watermarks.watermark(source)
        if stored is None:
            if self.settings.poll_from == "now":
                await self.watermarks.set_watermark(source, Position(to_ms(self.clock())).text())
                return 0
            mark = Position(BEGINNING_MS)
        else:
            mark = Position.parse(stored)
        overlap_ms = int(self.settings.poll_overlap_s * 1000)
        position = Position(mark.ms - overlap_ms) if overlap_ms > 0 else mark
        read = fresh = 0
        while fresh < self.max_rows:
            rows, after, more = await self._page(api_name, position)
            for row in rows:
                await self.sink.put(self._change(entity, row))
            read += len(rows)
            fresh += sum(1 for row in rows if mark.behind(_key(row)))
            if after > mark:
                await self.watermarks.set_watermark(source, after.text())
            if not more or after <= position:  # done, or a server ignoring the filter
                break
            position = after
        return read

    async def _page(self, api_name: str, at: Position) -> tuple[list[Record], Position, bool]:
        """The next page after `at`, the position after it, and whether more may follow."""
        if at.after:
            same = [flt(MODIFIED, "EQ", [str(at.ms)]), flt("_id", "GT", [at.after])]
            rows = await self._query(api_name, same, ("_id",))
            if len(rows) == PAGE_MAX:
                return rows, Position(at.ms, str(rows[-1]["_id"])), True
            if rows:  # the millisecond is finished; the next call reads what follows it
                return rows, Position(at.ms + 1), True
            at = Position(at.ms + 1)
        rows = await self._query(api_name, [flt(MODIFIED, "GTE", [str(at.ms)])], (MODIFIED, "_id"))
        if not rows:
            return [], at, False
        return rows, _key(rows[-1]), len(rows) == PAGE_MAX

    async def _query(
        self, api_name: str, filters: list[Any], order: tuple[str, ...]
    ) -> list[Record]:
        rows = await self.wire.query(api_name, filters, projection=PROJECTION, order_by=order)
        return [r for r in rows if isinstance(r.get("_id"), str) and _ms(r) is not None]

    def _change(self, entity: Entity, row: Record) -> Change:
        modified = _ms(row) or 0
        return Change(
            system="crm",
            entity=entity,
            record_id=str(row["_id"]),
            operation="insert" if _ms(row, "create_time") == modified else "update",
            origin="poll",
            received_at=self.clock(),
            version=from_ms(modified),
        )


def _ms(row: Record, field: str = MODIFIED) -> int | None:
    value = row.get(field)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _key(row: Record) -> Position:
    return Position(_ms(row) or 0, str(row["_id"]))
