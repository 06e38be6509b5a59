"""Callbacks of the Notification API: what Zoho POSTs to a channel's `notify_url` (§A.9).

After each write request the writer's changes are grouped by module and operation; every
live channel watching that module and verb gets one callback naming all the ids, sent by
the emulation's `Outbox` in the background (the API response never waits for it):

    {"server_time": 1718115953625, "query_params": {...}, "module": "Accounts",
     "resource_uri": "https://www.zohoapis.com/crm/v2/Accounts", "ids": ["…", "…"],
     "affected_fields": [{"<id>": ["Phone"]}],
     "affected_values": [{"record_id": "<id>", "values": {"Phone": "…"}}],  # when asked for
     "operation": "update", "channel_id": "…", "token": "…"}

`operation` is insert / update / delete (not the subscription verbs); an insert lists no
affected fields, as in Zoho's samples. There is no signature: the token is the secret.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from backends.notify import Outbox
from backends.zoho.watch import Channel, Channels

logger = logging.getLogger("crossdock.emulation.zoho")

Operation = Literal["insert", "update", "delete"]
Payload = dict[str, Any]


@dataclass(frozen=True)
class RecordChange:
    """One record written by a request: for an update, the fields that changed (new values)."""

    module: str
    record_id: str
    operation: Operation
    values: dict[str, Any] = field(default_factory=dict)


class Callbacks:
    """Turns a request's record changes into callbacks on the outbox."""

    def __init__(
        self,
        channels: Channels,
        outbox: Outbox,
        *,
        client: httpx.AsyncClient | None = None,
        resource_base: str = "https://www.zohoapis.com",
    ) -> None:
        self.channels = channels
        self.outbox = outbox
        self.client = client
        self.resource_base = resource_base
        self._owns_client = client is None

    def publish(self, changes: list[RecordChange]) -> None:
        if not changes:
            return
        live = self.channels.live()
        for (module, operation), group in _grouped(changes).items():
            for channel in live:
                if channel.wants(module, operation):
                    payload = self.payload(channel, module, operation, group)
                    self.outbox.submit(self._sender(channel.notify_url, payload))

    def payload(
        self, channel: Channel, module: str, operation: Operation, group: list[RecordChange]
    ) -> Payload:
        ids = list(dict.fromkeys(c.record_id for c in group))
        body: Payload = {
            "server_time": self.channels.clock.now_ms(),
            "query_params": _query_params(channel.notify_url),
            "module": module,
            "resource_uri": f"{self.resource_base}/crm/v2/{module}",
            "ids": ids,
            "affected_fields": [
                {c.record_id: list(c.values)} for c in group if operation == "update"
            ],
            "operation": operation,
            "channel_id": channel.channel_id,
        }
        if channel.return_affected_field_values and operation == "update":
            body["affected_values"] = [
                {"record_id": c.record_id, "values": c.values} for c in group
            ]
        if channel.token is not None:
            body["token"] = channel.token
        return body

    def _sender(self, url: str, payload: Payload) -> Any:
        async def send() -> None:
            client = self.client or await self._default_client()
            response = await client.post(url, json=payload)
            if response.status_code >= 300:
                # Zoho documents no retry of a failed callback, so neither does the emulation.
                logger.info("callback to %s answered %s", _origin(url), response.status_code)

        return send

    async def _default_client(self) -> httpx.AsyncClient:
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        return self.client

    async def aclose(self) -> None:
        await self.outbox.aclose()
        if self.client is not None and self._owns_client:
            await self.client.aclose()
            self.client = None


def _grouped(changes: list[RecordChange]) -> dict[tuple[str, Operation], list[RecordChange]]:
    groups: dict[tuple[str, Operation], list[RecordChange]] = {}
    for change in changes:
        groups.setdefault((change.module, change.operation), []).append(change)
    return groups


def _query_params(url: str) -> dict[str, str]:
    query = urllib.parse.urlsplit(url).query
    return {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"  # never the query: it may hold a secret
