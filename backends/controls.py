"""Test knobs shared by the emulations: request counting and fault injection.

Each emulated system wraps its app in `ControlMiddleware`. It counts every request it
serves by route (so tests and benchmarks can count backend calls exactly) and, when told
to, adds latency, fails a share of requests with 5xx, throttles with 429 + `Retry-After`,
goes down (503 on everything), or trickles its replies (`Trickle`: the body a few bytes at a
time, `trickle_ms` apart). The knobs are set in code (`Controls`), from settings,
or over `/_emulator/*` when the admin endpoint is enabled (it is off by default):

    GET  /_emulator/stats          {"total": 12, "routes": {"GET /crm/v8/Accounts": 3, ...}}
    POST /_emulator/stats/reset
    GET  /_emulator/faults         the current knobs
    POST /_emulator/faults         {"latency_ms": 20, "error_rate": 0.5, "throttle_rate": 0,
                                    "retry_after_s": 1, "down": false, "seed": 7,
                                    "trickle_ms": 100, "trickle_bytes": 1}
    GET  /_emulator/held           late writes (backends.held_writes) and their counters
    POST /_emulator/held           {"method": "PUT", "path": "^/api/resource/Sales Order/",
                                    "hold_ms": 300, "skip": 0, "count": 1}
    GET|POST /_emulator/notifications   notification knobs and counters (backends.notify)
    GET  /_emulator/traces         {"received": ["4bf92f35...", ...]}: the trace ids of the
                                    last requests that carried a W3C `traceparent` (oldest
                                    first, at most 100); each is also logged (crossdock.emulator)
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .held_writes import HeldWrite

ADMIN_PREFIX = "/_emulator"
logger = logging.getLogger("crossdock.emulator")
# version 00: 32 hex trace id (not all zeros), 16 hex parent id, 2 hex flags
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")

# Builds the system's own error body for a status (Zoho and Frappe envelopes differ).
ErrorFactory = Callable[[int], Response]
# Names the route a request hit, e.g. ("GET", "/crm/v8/Accounts/1") -> "GET /crm/v8/Accounts/{id}".
RouteClassifier = Callable[[str, str], str]


# knob -> (accepted types, low, high); a bad value would otherwise fail every later request.
_KNOBS: dict[str, tuple[type | tuple[type, ...], float | None, float]] = {
    "latency_ms": ((int, float), 0, 60_000),
    "error_rate": ((int, float), 0, 1),
    "throttle_rate": ((int, float), 0, 1),
    "retry_after_s": (int, 0, 3600),
    "down": (bool, None, 0),
    "seed": (int, None, 0),
    "trickle_ms": ((int, float), 0, 60_000),
    "trickle_bytes": (int, 1, 1 << 20),
}


def _describe(kinds: type | tuple[type, ...], low: float | None, high: float) -> str:
    if kinds is bool:
        return "true or false"
    kind = "an integer" if kinds is int else "a number"
    return kind if low is None else f"{kind} in [{low}, {high}]"


@dataclass
class Controls:
    """Fault knobs. Rates are shares of requests in [0, 1], drawn from a seeded PRNG."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after_s: int = 1
    down: bool = False
    seed: int = 0
    trickle_ms: float = 0.0
    trickle_bytes: int = 1
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _held: list[HeldWrite] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs; ValueError naming the knob when one is unknown or out of range."""
        unknown = set(values) - set(_KNOBS)
        if unknown:
            raise ValueError(f"unknown fault knob(s) {sorted(unknown)}; known: {sorted(_KNOBS)}")
        for name, value in values.items():
            kinds, low, high = _KNOBS[name]
            valid = isinstance(value, kinds) and (kinds is bool or not isinstance(value, bool))
            if not valid or (low is not None and not low <= value <= high):
                raise ValueError(f"fault knob {name} must be {_describe(kinds, low, high)}")
        for name, value in values.items():
            setattr(self, name, value)
        if "seed" in values:
            self._rng.seed(self.seed)

    def reset(self) -> None:
        self.update({"latency_ms": 0.0, "error_rate": 0.0, "throttle_rate": 0.0, "down": False})
        self.update({"trickle_ms": 0.0})
        self._held.clear()

    def hold(
        self, method: str, path: str, hold_ms: float, *, skip: int = 0, count: int = 1
    ) -> HeldWrite:
        """Apply matching writes late (see backends.held_writes); ValueError on a bad knob."""
        held = HeldWrite.build(method, path, hold_ms, skip=skip, count=count)
        self._held.append(held)
        return held

    def held_for(self, method: str, path: str) -> HeldWrite | None:
        return next((h for h in self._held if h.takes(method, path)), None)

    def held_writes(self) -> list[dict[str, Any]]:
        return [h.describe() for h in self._held]

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def draw(self) -> float:
        return self._rng.random()


@dataclass
class RequestStats:
    """Requests served, by route. Thread-safe: uvicorn may serve from several threads."""

    routes: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, route: str) -> None:
        with self._lock:
            self.routes[route] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.routes.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": sum(self.routes.values()), "routes": dict(self.routes)}

    def reset(self) -> None:
        with self._lock:
            self.routes.clear()


@dataclass
class ReceivedTraces:
    """The trace ids of the last `keep` requests that carried a valid `traceparent`."""

    keep: int = 100
    _ids: deque[str] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._ids = deque(maxlen=self.keep)

    def record(self, scope: Scope) -> str | None:
        """The trace id of this request's `traceparent` (kept and logged), if it has one."""
        header = dict(scope["headers"]).get(b"traceparent")
        if header is None:
            return None
        found = _TRACEPARENT.match(header.decode("latin-1").strip())
        if found is None or found.group(1) == "0" * 32:
            return None
        trace_id = found.group(1)
        with self._lock:
            self._ids.append(trace_id)
        logger.info("%s %s trace_id=%s", scope["method"], scope["path"], trace_id)
        return trace_id

    @property
    def received(self) -> list[str]:
        with self._lock:
            return list(self._ids)


class ControlMiddleware:
    """Counts requests and applies the fault knobs before the emulated system sees them;
    keeps the trace ids requests carry (`traces`)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        controls: Controls,
        stats: RequestStats,
        classify: RouteClassifier,
        error_response: ErrorFactory,
        admin_enabled: bool = False,
        admin_routes: Sequence[BaseRoute] = (),
        traces: ReceivedTraces | None = None,
    ) -> None:
        self.app = app
        self.traces = ReceivedTraces() if traces is None else traces
        self.controls = controls
        self.stats = stats
        self.classify = classify
        self.error_response = error_response
        routes = [*admin_routes, _traces_route(self.traces)]
        self.admin = _admin_app(controls, stats, routes) if admin_enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX + "/"):
            target = self.admin or _not_found
            await target(scope, receive, send)
            return
        self.stats.record(self.classify(scope["method"], path))
        self.traces.record(scope)
        fault = await self._fault()
        if fault is not None:
            await fault(scope, receive, send)
            return
        if self.controls.trickle_ms > 0:
            send = Trickle(self.controls.trickle_ms, self.controls.trickle_bytes).wrap(
                send, receive
            )
        held = self.controls.held_for(scope["method"], path)
        if held is not None:
            await held.serve(self.app, scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _fault(self) -> Response | None:
        controls = self.controls
        if controls.latency_ms > 0:
            await asyncio.sleep(controls.latency_ms / 1000)
        if controls.down:
            return Response("Service Unavailable", status_code=503, media_type="text/plain")
        if controls.throttle_rate > 0 and controls.draw() < controls.throttle_rate:
            response = self.error_response(429)
            response.headers["Retry-After"] = str(controls.retry_after_s)
            return response
        if controls.error_rate > 0 and controls.draw() < controls.error_rate:
            return self.error_response(500)
        return None


@dataclass(frozen=True)
class Trickle:
    """Sends a response's body `chunk_bytes` at a time, `interval_ms` apart, after its headers.

    Bytes keep coming, so a client's read timeout (a bound on the gap between two reads)
    never fires: only a deadline on the whole response ends such a request. Stops when the
    client goes away (ASGI `http.disconnect`) instead of dripping into a closed socket.
    """

    interval_ms: float
    chunk_bytes: int = 1

    def wrap(self, send: Send, receive: Receive) -> Send:
        async def trickling(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more: bool = message.get("more_body", False)
            for start in range(0, len(body), self.chunk_bytes):
                if await self._client_left(receive):
                    return
                chunk = body[start : start + self.chunk_bytes]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": more})

        return trickling

    async def _client_left(self, receive: Receive) -> bool:
        """Waits one interval; True if the client disconnected meanwhile."""
        try:
            message = await asyncio.wait_for(receive(), self.interval_ms / 1000)
        except TimeoutError:
            return False
        if message["type"] == "http.disconnect":
            return True
        await asyncio.sleep(self.interval_ms / 1000)  # a late request message: still wait
        return False


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await Response("Not Found", status_code=404)(scope, receive, send)


def _traces_route(traces: ReceivedTraces) -> Route:
    async def received(request: Request) -> Response:
        return JSONResponse({"received": traces.received})

    return Route(ADMIN_PREFIX + "/traces", received, methods=["GET"])


def _admin_app(controls: Controls, stats: RequestStats, extra: Sequence[BaseRoute] = ()) -> ASGIApp:
    from starlette.applications import Starlette

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats.snapshot())

    async def reset_stats(request: Request) -> Response:
        stats.reset()
        return JSONResponse(stats.snapshot())

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object of knobs")
                controls.update(body)
            except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(controls.as_dict())

    async def held(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await request.json()
                if not isinstance(body, dict) or not {"method", "path", "hold_ms"} <= set(body):
                    raise ValueError("the body must be an object with method, path and hold_ms")
                controls.hold(
                    str(body["method"]), body["path"], body["hold_ms"],
                    skip=body.get("skip", 0), count=body.get("count", 1),
                )  # fmt: skip
            except (ValueError, RecursionError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"held": controls.held_writes()})

    return Starlette(
        routes=[
            Route(ADMIN_PREFIX + "/stats", get_stats, methods=["GET"]),
            Route(ADMIN_PREFIX + "/stats/reset", reset_stats, methods=["POST"]),
            Route(ADMIN_PREFIX + "/faults", faults, methods=["GET", "POST"]),
            Route(ADMIN_PREFIX + "/held", held, methods=["GET", "POST"]),
            *extra,
        ]
    )
