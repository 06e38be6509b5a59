"""A recording HTTP receiver for the emulations' notifications: a real ASGI app that keeps
every request it gets (a spy), reached by the emulation through `httpx.ASGITransport`.

    receiver = Receiver()
    emulator = ZohoEmulator(store, notify_client=receiver.client())
    ...
    await emulator.outbox.drain()
    assert receiver.bodies[0]["operation"] == "insert"
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """Answers `status` (one per request in turn, then the last one) and records requests."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]

    async def _record(self, request: Request) -> Response:
        self.requests.append(
            Received(request.url.path, dict(request.headers), await request.body())
        )
        status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        return Response(status_code=status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._record, methods=["POST", "PUT"])])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app()))
