"""Run both emulations on loopback with uvicorn, seeded on first start, in one asyncio loop.

    async with emulations_running(data_dir=Path("var"), zoho_port=0, erp_port=0) as running:
        print(running.zoho_url, running.erp_url)     # ports 0: the OS picked free ones

`run_emulations(...)` does the same until Ctrl-C and prints the URLs and credentials (this is
what `make demo` uses). Data lives in `<data_dir>/zoho.sqlite3` and `<data_dir>/erpnext.sqlite3`;
the seed runs only when both are empty, so a restart keeps the data. Ports default to 8101
(Zoho CRM) and 8102 (ERPNext); the environment variables CROSSDOCK_ZOHO_PORT and
CROSSDOCK_ERP_PORT override the defaults, and explicit arguments override both. A port that
is taken raises PortInUse naming the variable that moves it (no uvicorn traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
from collections.abc import AsyncIterator, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import uvicorn
from starlette.types import ASGIApp

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.seed import SeedReport, seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore

DEFAULT_PORTS = {"CROSSDOCK_ZOHO_PORT": 8101, "CROSSDOCK_ERP_PORT": 8102}


@dataclass(frozen=True)
class Emulations:
    """Where the running emulations listen, and how to authenticate to each."""

    zoho_url: str
    erp_url: str
    zoho: ZohoSettings
    erp: ErpSettings
    seeded: SeedReport | None

    def describe(self) -> str:
        z, e = self.zoho, self.erp
        return "\n".join(
            (
                f"Zoho CRM emulation  {self.zoho_url}/crm/v8  "
                f"(OAuth: POST {self.zoho_url}/oauth/v2/token"
                f" grant_type=refresh_token client_id={z.client_id}"
                f" client_secret={z.client_secret} refresh_token={z.refresh_token})",
                f"ERPNext emulation   {self.erp_url}/api/resource  "
                f"(Authorization: token {e.api_key}:{e.api_secret})",
            )
        )


class PortInUse(OSError):
    """A port another process listens on; says which variable moves it."""

    def __init__(self, host: str, port: int, variable: str | None = None) -> None:
        self.host, self.port, self.variable = host, port, variable
        move = f"set {variable} to a free port" if variable else "choose a free port"
        super().__init__(
            errno.EADDRINUSE,
            f"port {port} on {host} is already in use (another crossdock demo?); stop it or {move}",
        )

    def __str__(self) -> str:
        return str(self.strerror)

    def named(self, variable: str) -> PortInUse:
        """The same error, naming the variable that sets this port."""
        return PortInUse(self.host, self.port, variable)


def ensure_free(host: str, port: int) -> None:
    """Raise PortInUse when `host:port` cannot be bound (port 0 is always free)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise


def resolve_port(key: str, given: int | None, env: Mapping[str, str]) -> int:
    """The explicit port, else the environment's, else the default (0 = any free port)."""
    if given is not None:
        return given
    raw = env.get(key)
    if raw is None:
        return DEFAULT_PORTS[key]
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 65535:
        raise ValueError(f"{key}={raw!r} is not a port number (set it to 0-65535 or unset it)")
    return int(raw)


@contextlib.asynccontextmanager
async def emulations_running(
    *,
    data_dir: Path,
    zoho_port: int | None = None,
    erp_port: int | None = None,
    host: str = "127.0.0.1",
    scale: float = 1.0,
    admin: bool = False,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Emulations]:
    """Open (and seed if empty) both stores, serve both apps, stop them on exit."""
    env = os.environ if env is None else env
    zoho_settings, erp_settings = (
        ZohoSettings(admin_enabled=admin),
        ErpSettings(admin_enabled=admin),
    )
    zoho, erp = _open_stores(data_dir, zoho_settings, erp_settings)
    try:
        report = seed_if_empty(zoho, erp, scale=scale)
        zoho_emulator = ZohoEmulator(zoho, zoho_settings)
        erp_emulator = ErpEmulator(erp, erp_settings)
        zoho_app, erp_app = zoho_emulator.app, erp_emulator.app
        ports = (
            resolve_port("CROSSDOCK_ZOHO_PORT", zoho_port, env),
            resolve_port("CROSSDOCK_ERP_PORT", erp_port, env),
        )
        for variable, port in zip(DEFAULT_PORTS, ports, strict=True):
            try:
                ensure_free(host, port)
            except PortInUse as exc:
                raise exc.named(variable) from None
        async with (
            serving(zoho_app, host, ports[0]) as zp,
            serving(erp_app, host, ports[1]) as ep,
        ):
            yield Emulations(
                f"http://{host}:{zp}", f"http://{host}:{ep}", zoho_settings, erp_settings, report
            )
        await zoho_emulator.aclose()  # their notification workers and clients
        await erp_emulator.aclose()
    finally:
        zoho.close()
        erp.close()


def _open_stores(
    data_dir: Path, zoho: ZohoSettings, erp: ErpSettings
) -> tuple[ZohoStore, ErpStore]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return (
        ZohoStore(data_dir / "zoho.sqlite3", tz=zoho.tz),
        ErpStore(data_dir / "erpnext.sqlite3", tz=erp.tz),
    )


def seed_if_empty(zoho: ZohoStore, erp: ErpStore, *, scale: float) -> SeedReport | None:
    """Seed two empty stores; leave two filled ones alone; refuse a half-filled pair."""
    filled = (zoho.count("Accounts") > 0, erp.count("Company") > 0)
    if all(filled):
        return None
    if any(filled):
        raise RuntimeError(
            "one emulation has data and the other has none; delete both "
            "zoho.sqlite3 and erpnext.sqlite3 in the data directory to reseed"
        )
    return seed(zoho, erp, scale=scale)


@contextlib.asynccontextmanager
async def serving(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    lifespan: Literal["on", "off"] = "off",
    **options: Any,
) -> AsyncIterator[int]:
    """Serves `app` with uvicorn inside the running loop; yields the bound port (0 = any free).
    `options` go to `uvicorn.Config` (TLS files, `timeout_graceful_shutdown`, ...); proxy
    headers are ignored unless they say otherwise."""
    ensure_free(host, port)
    options = {"log_level": "warning", "proxy_headers": False, **options}
    config = uvicorn.Config(app, host=host, port=port, lifespan=lifespan, **options)
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the bind error
            raise RuntimeError(f"uvicorn stopped before it started on {host}:{port}")
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its owner (several servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def run_emulations(
    *,
    data_dir: Path,
    zoho_port: int | None = None,
    erp_port: int | None = None,
    host: str = "127.0.0.1",
    scale: float = 1.0,
    admin: bool = False,
) -> None:
    """Serve both emulations until SIGINT/SIGTERM, printing their URLs and credentials."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with emulations_running(
            data_dir=data_dir, zoho_port=zoho_port, erp_port=erp_port, host=host,
            scale=scale, admin=admin,
        ) as running:  # fmt: skip
            if running.seeded:
                print(f"seeded in {running.seeded.seconds:.1f}s: {running.seeded.counts}")
            print(running.describe(), flush=True)
            await stop.wait()

    asyncio.run(main())
