"""`[inbound]` in the gateway: the receivers' routes over one change sink.

inbound = open_inbound(settings, sink=sink)   # None unless [inbound] enabled
routes = [*routes, *inbound.routes()]
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from starlette.routing import Route

from gateway.inbound.receivers import Receivers
from gateway.settings import Settings
from resolvers.sync.change import ChangeSink


@dataclass
class Inbound:
    """The receivers (when notifications are on) over one sink."""

    receivers: Receivers | None

    def routes(self) -> list[Route]:
        return [] if self.receivers is None else self.receivers.routes()


def open_inbound(settings: Settings, *, sink: ChangeSink) -> Inbound | None:
    inbound = settings.inbound
    if not inbound.enabled:
        return None
    receivers = None
    if inbound.notifications:
        receivers = Receivers(inbound, sink, site_tz=ZoneInfo(settings.scm.site_tz))
    return Inbound(receivers)
