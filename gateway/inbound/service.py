"""`[inbound]` in the gateway: the receivers' routes, the background registration and the
catch-up poll.

    inbound = open_inbound(settings, crm=crm, scm=scm, sink=sink)   # None unless enabled
    routes = [*routes, *inbound.routes()]
    on_startup.append(inbound.start); on_shutdown.insert(0, inbound.stop)

The poll runs every `poll_interval_s` (0: never), from startup, whether notifications are
on or not; a failed pass is logged and the next one tries again. Over Fxiaoke (no change
notifications) only ERPNext's hook and webhooks exist, and the poll reads Fxiaoke
(gateway.inbound.fxiaoke_poll) where it would read Zoho.

Registration runs in the background, so the gateway listens at once even when a backend is
down: first at startup, then every `register_interval_s`, and in any case before the Zoho
channel comes within `renew_before_s` of its expiry; a failed attempt is retried after
`RETRY_S` (or sooner when the interval is shorter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from starlette.routing import Route

from gateway.inbound.fxiaoke_poll import FxiaokePoll
from gateway.inbound.poll import Poller
from gateway.inbound.receivers import Receivers
from gateway.inbound.registration import Registrar, Report
from gateway.settings import Settings, SettingsError
from gateway.settings.inbound import InboundSettings
from resolvers.erpnext import ERPNext
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.ports import CrmPort, ErpPort
from resolvers.sync.change import ChangeSink
from resolvers.sync.watermarks import Watermarks, WatermarkStore
from resolvers.zoho import ZohoCRM

logger = logging.getLogger("crossdock.inbound")

RETRY_S = 60.0
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


class Inbound:
    """The receivers, the registration schedule and the catch-up poll of one gateway."""

    def __init__(
        self,
        settings: InboundSettings,
        *,
        receivers: Receivers | None,
        registrar: Registrar | None,
        poller: Poller | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.receivers = receivers
        self.registrar = registrar
        self.poller = poller
        self.last_report: Report | None = None
        self.last_poll: dict[str, int] | None = None
        self._sleep = sleep
        self._clock = clock
        self._tasks: list[asyncio.Task[None]] = []

    def routes(self) -> list[Route]:
        return [] if self.receivers is None else self.receivers.routes()

    async def start(self) -> None:
        if self.registrar is not None:
            self._tasks.append(asyncio.create_task(self._keep_registered(self.registrar)))
        if self.poller is not None and self.settings.poll_interval_s > 0:
            self._tasks.append(asyncio.create_task(self._keep_polling(self.poller)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.poller is not None and isinstance(self.poller.watermarks, Watermarks):
            self.poller.watermarks.close()

    async def _keep_polling(self, poller: Poller) -> None:
        while True:
            try:
                self.last_poll = await poller.poll_once()
            except Exception:  # a backend down or a bug: log it, the next pass tries again
                logger.exception("inbound catch-up poll failed; retrying next interval")
            await self._sleep(self.settings.poll_interval_s)

    async def register(self, registrar: Registrar) -> Report:
        """One registration pass, its failures logged (never raised)."""
        report = await registrar.ensure()
        for line in report.lines():
            if "failed" in line:
                logger.warning("inbound registration: %s", line)
            else:
                logger.info("inbound registration: %s", line)
        self.last_report = report
        return report

    async def _keep_registered(self, registrar: Registrar) -> None:
        while True:
            try:
                report = await self.register(registrar)
            except Exception:  # a bug must not end the schedule: log it and try again
                logger.exception("inbound registration failed unexpectedly")
                report = None
            delay = self.next_registration(report)
            if delay is None:
                return
            await self._sleep(delay)

    def next_registration(self, report: Report | None) -> float | None:
        """Seconds until the next pass (None: none is needed)."""
        s = self.settings
        delays = [float(s.register_interval_s)] if s.register_interval_s > 0 else []
        if report is None or not report.ok:
            delays.append(RETRY_S)
        if report is not None and report.channel_expiry is not None:
            due = report.channel_expiry.timestamp() - s.renew_before_s
            delays.append(max(1.0, due - self._clock().timestamp()))
        return min(delays) if delays else None


def open_inbound(
    settings: Settings,
    *,
    crm: CrmPort,
    scm: ErpPort,
    sink: ChangeSink,
    watermarks: WatermarkStore | None = None,
) -> Inbound | None:
    """The receivers, registrar and catch-up poll `[inbound]` asks for (None when off). The
    poll keeps its watermarks in `watermarks` (the sync inbox, when `[sync]` is on), else in
    its own file `[inbound] watermarks_path`."""
    inbound = settings.inbound
    if not inbound.enabled:
        return None
    site_tz = ZoneInfo(settings.scm.site_tz)
    receivers = registrar = None
    if inbound.notifications:
        # Fxiaoke has no change notifications: only ERPNext's hook, the poll hears the CRM
        receivers = Receivers(inbound, sink, site_tz=site_tz, crm_hooks=isinstance(crm, ZohoCRM))
        registrar = registrar_for(inbound, crm, scm)
    poller = None
    if isinstance(crm, ZohoCRM | FxiaokeCRM) and isinstance(scm, ERPNext):
        marks = watermarks if watermarks is not None else open_watermarks(inbound)
        fx = FxiaokePoll(inbound, sink, marks, crm.wire) if isinstance(crm, FxiaokeCRM) else None
        zoho = crm.wire if isinstance(crm, ZohoCRM) else None
        poller = Poller(
            inbound, sink, marks, zoho=zoho, frappe=scm.wire, site_tz=site_tz, fxiaoke=fx
        )
    return Inbound(inbound, receivers=receivers, registrar=registrar, poller=poller)


def open_watermarks(settings: InboundSettings) -> Watermarks:
    """The watermark file; a SettingsError naming the key when it cannot be opened."""
    try:
        return Watermarks(settings.watermarks_path)
    except (OSError, sqlite3.Error) as exc:
        raise SettingsError(
            f"inbound.watermarks_path {settings.watermarks_path} cannot be opened ({exc}); set "
            "CROSSDOCK_INBOUND_WATERMARKS or [inbound] watermarks_path to a writable file"
        ) from None


def registrar_for(settings: InboundSettings, crm: CrmPort, scm: ErpPort) -> Registrar | None:
    """The registrar over the connectors' wires (None for other port implementations). With
    Fxiaoke only ERPNext's webhooks are registered: Fxiaoke has no change notifications."""
    if not isinstance(crm, ZohoCRM | FxiaokeCRM) or not isinstance(scm, ERPNext):
        logger.warning(
            "inbound: the backends are not Zoho/Fxiaoke and ERPNext; nothing is registered"
        )
        return None
    zoho = crm.wire if isinstance(crm, ZohoCRM) else None
    return Registrar(settings, zoho=zoho, frappe=scm.wire)
