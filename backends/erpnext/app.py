"""The emulated ERPNext (Frappe v15 REST): settings, app factory and route classifier.

store = ErpStore("erpnext.sqlite3")
emulator = ErpEmulator(store, ErpSettings(admin_enabled=True))
uvicorn.run(emulator.app, port=8102)

Webhooks (the `Webhook` DocType, backends.erpnext.webhooks) are sent in the background
through `emulator.outbox` (backends.notify, with its fault knobs) over `notify_client`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.types import ASGIApp

from ..controls import ADMIN_PREFIX, ControlMiddleware, Controls, ReceivedTraces, RequestStats
from ..notify import Outbox, admin_route
from .errors import status_error
from .routes import Api
from .store import ErpStore
from .webhooks import Webhooks

_RESOURCE = re.compile(r"^(/api(?:/v1)?/resource/[^/]+)(/.+)?$")


@dataclass(frozen=True)
class ErpSettings:
    """Knobs of the emulation. `tz` is the site time zone of its naive datetimes."""

    api_key: str = "crossdock-demo"
    api_secret: str = "crossdock-demo-secret"  # noqa: S105 - the demo's published credential
    tz: str = "Europe/Berlin"
    company: str = "Acme Corp"
    admin_enabled: bool = False
    webhook_backoff_scale: float = 1.0  # Frappe waits 1 s, then 4 s between tries; tests: 0


def classify(method: str, path: str) -> str:
    """Name a request's route: "GET /api/resource/Sales Order/{name}"."""
    m = _RESOURCE.match(path)
    if not m:
        return f"{method} {path}"
    return f"{method} {m[1]}" + ("/{name}" if m[2] else "")


class ErpEmulator:
    """The app plus its test knobs: `controls` (faults) and `stats` (requests by route)."""

    def __init__(
        self,
        store: ErpStore,
        settings: ErpSettings = ErpSettings(),
        *,
        controls: Controls | None = None,
        notify_client: httpx.AsyncClient | None = None,
    ) -> None:
        if settings.tz != store.tz.key:
            raise ValueError(
                f"ErpSettings.tz is {settings.tz!r} but the store was opened with "
                f"{store.tz.key!r}: pass the same zone to ErpStore(path, tz=...)"
            )
        self.store = store
        self.settings = settings
        self.controls = controls or Controls()
        self.stats = RequestStats()
        self.traces = ReceivedTraces()  # trace ids received (`traceparent`)
        self.outbox = Outbox()
        self.webhooks = Webhooks(
            store,
            self.outbox,
            client=notify_client,
            backoff_scale=settings.webhook_backoff_scale,
        )
        api = Api(
            store,
            api_key=settings.api_key,
            api_secret=settings.api_secret,
            company=settings.company,
            webhooks=self.webhooks,
        )
        self.app: ASGIApp = ControlMiddleware(
            Starlette(routes=api.routes()),
            controls=self.controls,
            stats=self.stats,
            classify=classify,
            error_response=status_error,
            admin_enabled=settings.admin_enabled,
            admin_routes=[admin_route(ADMIN_PREFIX + "/notifications", self.outbox)],
            traces=self.traces,
        )

    async def aclose(self) -> None:
        """Stop the webhook worker and close the client it opened."""
        await self.webhooks.aclose()


def create_app(store: ErpStore, settings: ErpSettings = ErpSettings()) -> ASGIApp:
    return ErpEmulator(store, settings).app
