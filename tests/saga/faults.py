"""A fault injector at the HTTP boundary: an ASGI wrapper in front of an emulated system.

It fails requests that match a route, the way a real outage would, without touching our code:
`error` answers 503, `timeout` raises a read timeout before the system sees the request, and
`lost_reply` lets the system apply the request and then loses the answer (the ambiguous case),
`reject` answers 400 (the system refused the request itself: it did not and will not happen).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Mode = Literal["error", "timeout", "lost_reply", "reject"]


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    mode: Mode
    skip: int = 0  # let this many matching requests through first
    times: int | None = None  # fail this many, then heal; None: until cleared
    after: Callable[[], bool] | None = None  # armed only once this says so
    seen: int = 0
    failed: int = 0

    def fires(self, method: str, path: str) -> bool:
        if method != self.method or not self.path.search(path):
            return False
        if self.after is not None and not self.after():
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.failed >= self.times):
            return False
        self.failed += 1
        return True


@dataclass
class FaultInjector:
    app: ASGIApp
    faults: list[Fault] = field(default_factory=list)

    def add(self, method: str, path: str, mode: Mode = "error", **kw: Any) -> Fault:
        fault = Fault(method, re.compile(path), mode, **kw)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = next((f for f in self.faults if f.fires(scope["method"], scope["path"])), None)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.mode == "error":
            body = {"code": "INTERNAL_ERROR", "message": "injected fault", "status": "error"}
            await JSONResponse(body, status_code=503)(scope, receive, send)
        elif fault.mode == "reject":
            body = {"code": "INVALID_DATA", "message": "injected refusal", "status": "error"}
            await JSONResponse(body, status_code=400)(scope, receive, send)
        elif fault.mode == "timeout":
            raise httpx.ReadTimeout("injected timeout")
        else:
            await self.app(scope, receive, _discard)
            raise httpx.ReadTimeout("injected timeout after the request was applied")


async def _discard(message: Message) -> None:
    return None
