"""Keeping Crossdock registered with both backends, idempotently (issue 16).

Zoho: one watch channel (`[inbound] zoho_channel_id`) on Accounts, Products and
Sales_Orders (`.all`), calling `<public_url>/hooks/zoho` with the configured token and
affected field values. Registering reads the channels first: a missing channel is created
(POST), one that differs or expires within `renew_before_s` is replaced (PUT) with a fresh
expiry `channel_ttl_s` ahead (Zoho allows a week; beyond that it would give one hour).

ERPNext: one Webhook per (DocType, event), named `crossdock-<doctype>-<event>`:
after_insert, on_change and on_trash of Customer, Item, Sales Order and Shipment, and
on_change of Bin. on_change follows every save, submit, cancel, update after submit and
`db_set` (a status set from a menu), so together they see every change. Each posts
`webhook_body(doctype)` to `<public_url>/hooks/erpnext`, signed with the secret. A webhook
is created when missing and updated when it differs; Frappe masks a Password field when it
is read, so a secret that cannot be read back is rewritten only with `force` (after a
rotation: `crossdock sync register`).

Fxiaoke (`[crm] kind = "fxiaoke"`) has no change notifications: nothing is registered on
the CRM side (the report says "not applicable"); the catch-up poll hears its changes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gateway.settings.inbound import InboundSettings
from resolvers.canonical import format_offset_datetime, parse_offset_datetime
from resolvers.erpnext.wire import FrappeWire
from resolvers.errors import BackendError
from resolvers.zoho.wire import ZohoWire

logger = logging.getLogger("crossdock.inbound")

ZOHO_EVENTS = ("Accounts.all", "Products.all", "Sales_Orders.all")
SYNCED_DOCTYPES = ("Customer", "Item", "Sales Order", "Shipment")
DOC_EVENTS = ("after_insert", "on_change", "on_trash")
Action = Literal["created", "updated", "unchanged", "failed", "not applicable"]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Outcome:
    """What registering one thing did: `what` names it, `detail` says why on failure."""

    system: Literal["crm", "erp"]
    what: str
    action: Action
    detail: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    channel_expiry: datetime | None = None  # of the Zoho channel, when registered

    @property
    def ok(self) -> bool:
        return all(o.action != "failed" for o in self.outcomes)

    def lines(self) -> list[str]:
        return [
            f"{o.system} {o.what}: {o.action}" + (f" ({o.detail})" if o.detail else "")
            for o in self.outcomes
        ]


NO_CRM_NOTIFICATIONS = Outcome(
    "crm",
    "Fxiaoke change notifications",
    "not applicable",
    "Fxiaoke's OpenAPI has none; CRM changes are found by the catch-up poll "
    "([inbound] poll_interval_s)",
)


def webhook_body(doctype: str) -> str:
    """The Jinja `webhook_json` of Crossdock's webhooks (gateway.inbound.mapping reads it)."""
    fields = [
        '"doctype": {{ doc.doctype | tojson }}',
        '"name": {{ doc.name | tojson }}',
        '"modified": {{ doc.modified | string | tojson }}',
        '"docstatus": {{ doc.docstatus | int }}',
        '"event": "EVENT"',
    ]
    if doctype == "Bin":
        fields += ['"item_code": {{ doc.item_code | tojson }}']
        fields += ['"warehouse": {{ doc.warehouse | tojson }}']
    return "{" + ", ".join(fields) + "}"


def webhook_name(doctype: str, event: str) -> str:
    return f"crossdock-{doctype.lower().replace(' ', '-')}-{event.replace('_', '-')}"


class Registrar:
    """Registers the Zoho channel and the ERPNext webhooks; `ensure()` is idempotent."""

    def __init__(
        self,
        settings: InboundSettings,
        *,
        zoho: ZohoWire | None,
        frappe: FrappeWire,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.zoho = zoho
        self.frappe = frappe
        self.clock = clock

    async def ensure(self, *, force: bool = False) -> Report:
        report = Report()
        if self.zoho is not None:
            await self._zoho_channel(report, force=force)
        else:
            report.outcomes.append(NO_CRM_NOTIFICATIONS)
        for doctype, event in self.wanted_webhooks():
            report.outcomes.append(await self._webhook(doctype, event, force=force))
        return report

    def wanted_webhooks(self) -> list[tuple[str, str]]:
        pairs = [(d, e) for d in SYNCED_DOCTYPES for e in DOC_EVENTS]
        return [*pairs, ("Bin", "on_change")]

    # -- Zoho ------------------------------------------------------------------------------

    async def _zoho_channel(self, report: Report, *, force: bool) -> None:
        assert self.zoho is not None
        what = f"watch channel {self.settings.zoho_channel_id}"
        try:
            current = await self._current_channel()
            wanted = self._wanted_channel()
            if current is None:
                await self.zoho.call("POST", "/actions/watch", json={"watch": [wanted]})
                action: Action = "created"
            elif force or self._stale(current):
                await self.zoho.call("PUT", "/actions/watch", json={"watch": [wanted]})
                action = "updated"
            else:
                action = "unchanged"
                wanted["channel_expiry"] = current.get("channel_expiry")
        except BackendError as exc:
            report.outcomes.append(Outcome("crm", what, "failed", exc.message))
            return
        report.channel_expiry = parse_offset_datetime(wanted.get("channel_expiry"))
        report.outcomes.append(Outcome("crm", what, action))

    async def _current_channel(self) -> dict[str, Any] | None:
        assert self.zoho is not None
        body = await self.zoho.call("GET", "/actions/watch")
        for channel in (body or {}).get("watch") or []:
            if isinstance(channel, dict) and str(channel.get("channel_id")) == (
                self.settings.zoho_channel_id
            ):
                return channel
        return None

    def _wanted_channel(self) -> dict[str, Any]:
        expiry = self.clock() + timedelta(seconds=self.settings.channel_ttl_s)
        return {
            "channel_id": self.settings.zoho_channel_id,
            "events": list(ZOHO_EVENTS),
            "notify_url": self.settings.zoho_hook_url,
            "token": self.settings.zoho_token,
            "channel_expiry": format_offset_datetime(expiry),
            "return_affected_field_values": True,
            "notify_on_related_action": False,
        }

    def _stale(self, current: Mapping[str, Any]) -> bool:
        expiry = parse_offset_datetime(current.get("channel_expiry"))
        renew_at = self.clock() + timedelta(seconds=self.settings.renew_before_s)
        return (
            expiry is None
            or expiry <= renew_at
            or sorted(current.get("events") or []) != sorted(ZOHO_EVENTS)
            or current.get("notify_url") != self.settings.zoho_hook_url
            or ("token" in current and current.get("token") != self.settings.zoho_token)
            or current.get("return_affected_field_values") is not True
        )

    # -- ERPNext ---------------------------------------------------------------------------

    async def _webhook(self, doctype: str, event: str, *, force: bool) -> Outcome:
        name = webhook_name(doctype, event)
        wanted = self._wanted_webhook(doctype, event)
        try:
            current = await self.frappe.get_doc("Webhook", name)
            if current is None:
                await self.frappe.insert("Webhook", {"name": name, **wanted})
                return Outcome("erp", f"webhook {name}", "created")
            if force or _differs(current, wanted):
                await self.frappe.update("Webhook", name, wanted)
                return Outcome("erp", f"webhook {name}", "updated")
        except BackendError as exc:
            return Outcome("erp", f"webhook {name}", "failed", exc.message)
        return Outcome("erp", f"webhook {name}", "unchanged")

    def _wanted_webhook(self, doctype: str, event: str) -> dict[str, Any]:
        return {
            "webhook_doctype": doctype,
            "webhook_docevent": event,
            "enabled": 1,
            "request_url": self.settings.erpnext_hook_url,
            "request_method": "POST",
            "request_structure": "JSON",
            "webhook_json": webhook_body(doctype).replace("EVENT", event),
            "webhook_headers": [{"key": "Content-Type", "value": "application/json"}],
            "enable_security": 1,
            "webhook_secret": self.settings.erpnext_secret,
            "timeout": 5,
        }


def _differs(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        have = current.get(key)
        if key == "webhook_secret" and isinstance(have, str) and set(have) <= {"*"}:
            continue  # masked by Frappe: cannot be compared (force rewrites it)
        if key == "webhook_headers":
            have = [{"key": r.get("key"), "value": r.get("value")} for r in have or []]
        if json.dumps(have, sort_keys=True) != json.dumps(value, sort_keys=True):
            return True
    return False
