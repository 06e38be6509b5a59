"""Both emulations (tests/saga's `systems`), a sync inbox in tmp_path, and a processor.

Changes are made through the emulations' own APIs (Zoho's Records API or Fxiaoke's
data/update, Frappe's REST API) and the Change a notification (or Fxiaoke's poll) would
carry is put into the inbox, as a receiver does. `systems` runs over both CRMs for
test_rules.py (tests/conftest.py BOTH_CRMS): `crm_put` takes Zoho's field names and writes
them in Fxiaoke's fields when the CRM is Fxiaoke.

    async def test_x(systems: Systems, sync: SyncRig) -> None:
        await sync.crm_put("Accounts", account_id, {"Billing_City": "Berlin"})
        await sync.notify("crm", "account", account_id)
        await sync.processor.drain()
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from backends.fxiaoke.app import FxiaokeEmulator
from resolvers.saga import OrderProcessService
from resolvers.sync import Change, ChangeBus
from resolvers.sync.change import Entity, System
from resolvers.sync.inbox import SqliteInbox
from resolvers.sync.processor import Hook, Processor
from resolvers.sync.rules import RuleContext, RuleSettings, build_rules
from tests.saga.conftest import systems  # noqa: F401  (the fixture)
from tests.support.crm_users import FX_MODULES, fx_values
from tests.support.saga import Systems


class Clock:
    """Seconds since the epoch for the inbox's leases and backoff, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@dataclass
class SyncRig:
    systems: Systems
    path: str
    clock: Clock
    service: OrderProcessService
    bus: ChangeBus
    settings: RuleSettings = field(default_factory=RuleSettings)
    inboxes: list[SqliteInbox] = field(default_factory=list)
    processor: Processor = field(init=False)

    def __post_init__(self) -> None:
        self.processor = self.open()

    def open(self, *, hook: Hook | None = None, owner: str | None = None) -> Processor:
        """A processor over the inbox file (a fresh connection: as after a restart)."""
        inbox = SqliteInbox(self.path, lease_s=30, clock=self.clock)
        self.inboxes.append(inbox)
        ctx = RuleContext(self.systems.crm, self.systems.scm, self.service)
        rules = build_rules(self.settings)
        return Processor(inbox, rules, ctx, bus=self.bus, hook=hook, owner=owner)

    async def notify(
        self, system: System, entity: Entity, record_id: str, version: datetime | None = None
    ) -> bool:
        """What a receiver does with a notification: put its Change into the inbox."""
        change = Change(
            system=system,
            entity=entity,
            record_id=record_id,
            operation="update",
            origin="notification",
            received_at=datetime.fromtimestamp(self.clock(), UTC),
            version=version,
        )
        return await self.processor.inbox.put(change)

    @property
    def fxiaoke(self) -> bool:
        return isinstance(self.systems.zoho, FxiaokeEmulator)

    async def crm_put(self, module: str, record_id: str, values: dict[str, Any]) -> None:
        """An edit through the CRM's API: Zoho's Records API (PUT /crm/v8/{module}/{id}), or
        Fxiaoke's data/update with the same values in its fields (`fx_values`)."""
        crm: Any = self.systems.crm
        if self.fxiaoke:
            record = {"dataObjectApiName": FX_MODULES[module], "_id": record_id}
            data = {"object_data": record | fx_values(values)}
            await crm.wire.call("/cgi/crm/v2/data/update", data, write=True)
            return
        await crm.wire.call("PUT", f"/{module}/{record_id}", json={"data": [values]})

    async def crm_delete(self, module: str, record_id: str) -> None:
        """A record deleted through the CRM's API (Fxiaoke: voided by data/invalid)."""
        crm: Any = self.systems.crm
        if self.fxiaoke:
            data = {"dataObjectApiName": FX_MODULES[module], "object_data_id": record_id}
            await crm.wire.call("/cgi/crm/v2/data/invalid", data, write=True)
            return
        await crm.wire.call("DELETE", f"/{module}/{record_id}")

    async def erp_put(self, doctype: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
        """An edit through Frappe's REST API (PUT /api/resource/{doctype}/{name})."""
        return await self.systems.scm.wire.update(doctype, name, values)

    def writes(self) -> int:
        """Write requests both emulations received (token refreshes aside)."""
        routes = {
            **self.systems.zoho.stats.snapshot()["routes"],
            **self.systems.erp.stats.snapshot()["routes"],
        }
        return sum(n for route, n in routes.items() if _write(route))


FX_WRITES = ("/cgi/crm/v2/data/create", "/cgi/crm/v2/data/update", "/cgi/crm/v2/data/invalid")


def _write(route: str) -> bool:
    method, _, path = route.partition(" ")
    if path.startswith("/cgi/"):
        return path in FX_WRITES  # every Fxiaoke call is a POST: the verb says what it does
    return method in ("POST", "PUT", "DELETE") and "oauth" not in route


@pytest.fixture
async def sync(systems: Systems) -> AsyncIterator[SyncRig]:  # noqa: F811
    path = str(systems.journal_path.with_name("sync.sqlite"))
    rig = SyncRig(systems, path, Clock(), systems.service(), ChangeBus())
    yield rig
    for inbox in rig.inboxes:
        inbox.close()
