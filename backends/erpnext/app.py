"""The emulated ERPNext (Frappe v15 REST): settings, app factory and route classifier.

store = ErpStore("erpnext.sqlite3")
emulator = ErpEmulator(store, ErpSettings(admin_enabled=True))
uvicorn.run(emulator.app, port=8102)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.types import ASGIApp

from ..controls import ControlMiddleware, Controls, RequestStats
from .errors import status_error
from .routes import Api
from .store import ErpStore

_RESOURCE = re.compile(r"^(/api(?:/v1)?/resource/[^/]+)(/.+)?$")


@dataclass(frozen=True)
class ErpSettings:
    """Knobs of the emulation. `tz` is the site time zone of its naive datetimes."""

    api_key: str = "crossdock-demo"
    api_secret: str = "crossdock-demo-secret"  # noqa: S105 - the demo's published credential
    tz: str = "Europe/Berlin"
    company: str = "Acme Corp"
    admin_enabled: bool = False


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
        api = Api(
            store,
            api_key=settings.api_key,
            api_secret=settings.api_secret,
            company=settings.company,
        )
        self.app: ASGIApp = ControlMiddleware(
            Starlette(routes=api.routes()),
            controls=self.controls,
            stats=self.stats,
            classify=classify,
            error_response=status_error,
            admin_enabled=settings.admin_enabled,
        )


def create_app(store: ErpStore, settings: ErpSettings = ErpSettings()) -> ASGIApp:
    return ErpEmulator(store, settings).app
