"""Zoho's datetime format: ISO 8601 to the second, with the tenant's numeric offset."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo


class TenantClock:
    """Formats and parses datetimes in the tenant's time zone (`2026-03-01T10:00:00+05:30`)."""

    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def format(self, epoch_ms: int) -> str:
        moment = datetime.fromtimestamp(epoch_ms / 1000, self.zone)
        return moment.replace(microsecond=0).isoformat()

    def parse_ms(self, text: str) -> int:
        """Epoch ms of an ISO datetime; naive values are tenant-local. Raises ValueError."""
        moment = datetime.fromisoformat(_restore_plus(text.strip()))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return int(moment.timestamp() * 1000)


def _restore_plus(text: str) -> str:
    # An unencoded "+05:30" in a query string arrives as " 05:30".
    if len(text) > 19 and text[-6] == " " and text[-3] == ":":
        return text[:-6] + "+" + text[-5:]
    return text
