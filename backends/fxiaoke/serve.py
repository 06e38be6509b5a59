"""Run the Fxiaoke emulation and an ERPNext emulation seeded to agree with it, on loopback.

    async with fxiaoke_emulations_running(data_dir=Path("var/demo/fxiaoke")) as running:
        print(running.crm_url, running.erp_url)

The Fxiaoke tenant listens on 127.0.0.1:8103 (CROSSDOCK_FXIAOKE_PORT overrides it), the
ERPNext emulation on CROSSDOCK_ERP_PORT (8102) as in the Zoho demo. Its ERP data is its own
(`erpnext.sqlite3` beside `fxiaoke.sqlite3`): the crosswalks carry Fxiaoke `_id`s.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeEmulator, FxiaokeSettings
from backends.fxiaoke.seed import seed_fxiaoke
from backends.fxiaoke.store import FxStore
from backends.seed import SeedReport
from backends.serve import PortInUse, ensure_free, resolve_port, serving

PORT_ENV = "CROSSDOCK_FXIAOKE_PORT"
DEFAULT_PORT = 8103
STORES = ("fxiaoke.sqlite3", "erpnext.sqlite3")


@dataclass(frozen=True)
class FxEmulations:
    """Where the Fxiaoke and ERPNext emulations listen, and how to authenticate to each."""

    crm_url: str
    erp_url: str
    fxiaoke: FxiaokeSettings
    erp: ErpSettings
    seeded: SeedReport | None

    def describe(self) -> str:
        f, e = self.fxiaoke, self.erp
        return "\n".join(
            (
                f"Fxiaoke CRM emulation {self.crm_url}/cgi/crm/v2/data/query  (POST JSON; token: "
                f"POST {self.crm_url}/cgi/corpAccessToken/get/V2 appId={f.app_id} "
                f"appSecret={f.app_secret} permanentCode={f.permanent_code}; "
                f"currentOpenUserId={f.open_user_id})",
                f"ERPNext emulation     {self.erp_url}/api/resource  "
                f"(Authorization: token {e.api_key}:{e.api_secret})",
            )
        )


def fxiaoke_port(given: int | None, env: Mapping[str, str]) -> int:
    """The explicit port, else CROSSDOCK_FXIAOKE_PORT, else 8103 (0 = any free port)."""
    if given is not None:
        return given
    raw = env.get(PORT_ENV)
    if raw is None:
        return DEFAULT_PORT
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 65535:
        raise ValueError(f"{PORT_ENV}={raw!r} is not a port number (set it to 0-65535 or unset it)")
    return int(raw)


def _open_stores(data_dir: Path, erp: ErpSettings) -> tuple[FxStore, ErpStore]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return FxStore(data_dir / STORES[0]), ErpStore(data_dir / STORES[1], tz=erp.tz)


def seed_if_empty(fx: FxStore, erp: ErpStore, *, scale: float) -> SeedReport | None:
    """Seed two empty stores; leave two filled ones alone; refuse a half-filled pair."""
    filled = (fx.count_where("AccountObj", "1", ()) > 0, erp.count("Company") > 0)
    if all(filled):
        return None
    if any(filled):
        raise RuntimeError(
            "one emulation has data and the other has none; delete both "
            f"{' and '.join(STORES)} in the data directory to reseed"
        )
    return seed_fxiaoke(fx, erp, scale=scale)


@contextlib.asynccontextmanager
async def fxiaoke_emulations_running(
    *,
    data_dir: Path,
    fxiaoke_port_given: int | None = None,
    erp_port: int | None = None,
    host: str = "127.0.0.1",
    scale: float = 1.0,
    admin: bool = False,
    env: Mapping[str, str] | None = None,
    settings: FxiaokeSettings | None = None,
) -> AsyncIterator[FxEmulations]:
    """Open (and seed if empty) both stores, serve both apps, stop them on exit. `settings`
    replaces the tenant's defaults (its limits, say); `admin` then comes from them."""
    env = os.environ if env is None else env
    fx_settings = settings or FxiaokeSettings(admin_enabled=admin)
    erp_settings = ErpSettings(admin_enabled=fx_settings.admin_enabled)
    fx, erp = _open_stores(data_dir, erp_settings)
    try:
        report = seed_if_empty(fx, erp, scale=scale)
        ports = {
            PORT_ENV: fxiaoke_port(fxiaoke_port_given, env),
            "CROSSDOCK_ERP_PORT": resolve_port("CROSSDOCK_ERP_PORT", erp_port, env),
        }
        for variable, port in ports.items():
            try:
                ensure_free(host, port)
            except PortInUse as exc:
                raise exc.named(variable) from None
        fx_app = FxiaokeEmulator(fx, fx_settings).app
        erp_app = ErpEmulator(erp, erp_settings).app
        async with (
            serving(fx_app, host, ports[PORT_ENV]) as fp,
            serving(erp_app, host, ports["CROSSDOCK_ERP_PORT"]) as ep,
        ):
            yield FxEmulations(
                f"http://{host}:{fp}", f"http://{host}:{ep}", fx_settings, erp_settings, report
            )
    finally:
        fx.close()
        erp.close()
