"""`crossdock demo`: both emulations, the secure gateway over them, tokens and example queries.

    async with demo_running(data_dir=Path("var/demo"), scale=1.0) as demo:
        print(demo.banner)                 # GraphiQL URL, a token per role, curl examples

The data directory keeps the emulations' SQLite files (seeded once; a restart keeps the data),
the order journal, its AES key (`journal.key`, mode 0600, generated on first start unless
CROSSDOCK_JOURNAL_KEY is set; never committed: `var/` is ignored) and the audit log. Tokens
are minted with the demo's HS256 secret (CROSSDOCK_JWT_SECRET or the published demo secret),
so `crossdock token` in another shell mints tokens this gateway accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from backends.fxiaoke.serve import FxEmulations, fxiaoke_emulations_running
from backends.serve import Emulations, PortInUse, emulations_running, ensure_free, serving
from gateway.auth.tokens import mint
from gateway.console import offer_demo_tokens
from gateway.examples import ORDER_LIST, ORDER_PAGE, STOCK_BY_WAREHOUSE
from gateway.server import protocol_options
from gateway.settings import Settings, parse_settings
from gateway.settings.server import ServerSettings
from gateway.wiring import assemble, build_backends
from resolvers.saga.sealing import KEY_ENV, Sealer

DEMO_ROLES: tuple[tuple[str, str | None], ...] = (
    ("admin", None),
    ("sales", None),
    ("logistics", None),
    ("analyst", None),
    ("partner", "DHL"),
)
TOKEN_TTL = timedelta(hours=12)
# Fxiaoke is heard by polling only: every 5 s in the demo (3 calls a pass when idle: 51,840
# of the emulated tenant's 100,000 daily calls; production defaults to 60 s)
FXIAOKE_POLL_S = 5


def journal_key(data_dir: Path, env: Mapping[str, str]) -> str:
    """CROSSDOCK_JOURNAL_KEY, else `<data_dir>/journal.key` (created 0600 on first use)."""
    given = env.get(KEY_ENV)
    if given:
        return given
    path = data_dir / "journal.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(Sealer.generate_key() + "\n")
    return path.read_text(encoding="ascii").strip()


def demo_settings(
    emulations: Emulations | FxEmulations,
    data_dir: Path,
    env: Mapping[str, str],
    *,
    gateway_url: str | None = None,
) -> Settings:
    """Development settings pointing at the running emulations, state kept in `data_dir`.

    With `gateway_url` (where the gateway will listen), `[inbound]` and `[sync]` are on: the
    emulations notify the gateway (registered at its startup, with a token and a webhook
    secret made for this run unless CROSSDOCK_INBOUND_* set them), the catch-up poll runs
    every 30 s, and the sync rules carry each change to the other system (inbox in
    `data_dir/sync.sqlite`).

    The only settings that may verify tokens with the published demo secret (when
    CROSSDOCK_JWT_SECRET is not set): `crossdock serve` refuses it."""
    e = emulations.erp
    document: dict[str, Any] = {
        "server": {"environment": "development"},
        "crm": _crm_section(emulations),
        "scm": {"base_url": emulations.erp_url, "api_key": e.api_key, "api_secret": e.api_secret},
        "policy": {"audit_log": str(data_dir / "audit.log")},
        "saga": {"journal_path": str(data_dir / "orders.sqlite")},
        "reconcile": {"store_path": str(data_dir / "reconcile.sqlite"), "every": "1h"},
        "console": {"enabled": True},
    }
    if gateway_url is not None:
        document["inbound"] = {
            "enabled": True,
            "public_url": gateway_url,
            "erpnext_secret": secrets.token_urlsafe(32),
            "poll_interval_s": 30,
            "watermarks_path": str(data_dir / "watermarks.sqlite"),
        }
        if isinstance(emulations, FxEmulations):  # no notifications: the poll is the CRM's path
            document["inbound"]["poll_interval_s"] = FXIAOKE_POLL_S
        else:
            document["inbound"]["zoho_token"] = secrets.token_urlsafe(24)
        document["sync"] = {"enabled": True, "inbox_path": str(data_dir / "sync.sqlite")}
    environ = {**env, KEY_ENV: journal_key(data_dir, env)}
    environ.pop("CROSSDOCK_JOURNAL_PATH", None)
    return parse_settings(document, environ, demo=True)


def _crm_section(emulations: Emulations | FxEmulations) -> dict[str, Any]:
    if isinstance(emulations, FxEmulations):
        f = emulations.fxiaoke
        return {
            "kind": "fxiaoke",
            "base_url": emulations.crm_url,
            "app_id": f.app_id,
            "app_secret": f.app_secret,
            "permanent_code": f.permanent_code,
            "open_user_id": f.open_user_id,
        }
    z = emulations.zoho
    return {
        "accounts_url": emulations.zoho_url,
        "base_url": emulations.zoho_url,
        "client_id": z.client_id,
        "client_secret": z.client_secret,
        "refresh_token": z.refresh_token,
    }


def role_tokens(settings: Settings, ttl: timedelta = TOKEN_TTL) -> dict[str, str]:
    """One development token per default role, minted with the settings' HS256 secret."""
    secret = settings.auth.hs256_secret
    if secret is None:
        raise ValueError("auth.hs256_secret is not set: the demo mints HS256 tokens")
    a = settings.auth
    return {
        role: mint(
            secret,
            subject=f"demo-{role}",
            roles=[role],
            partner_id=partner,
            ttl=ttl,
            issuer=a.issuer,
            audience=a.audience,
        )
        for role, partner in DEMO_ROLES
    }


def curl(url: str, token_var: str, query: str, variables: Mapping[str, Any] | None = None) -> str:
    """A copy-pasteable curl command posting `query` with the token in `$token_var`."""
    body = json.dumps({"query": query, "variables": dict(variables or {})})
    return (
        f'curl -s {url} -H "Authorization: Bearer ${token_var}" '
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def banner(
    url: str,
    tokens: Mapping[str, str],
    order_number: str | None,
    sync_inbox: str,
    *,
    fxiaoke: bool = False,
) -> str:
    """What the demo prints: where to go, how to authenticate, what to run."""
    lines = [
        f"Crossdock gateway   {url}  (open it in a browser for GraphiQL;",
        '                    add the header {"Authorization": "Bearer <token>"} there)',
        f"Console             {url.removesuffix('/graphql')}/console  (sign in by picking a role)",
        "",
        "Tokens (12 h; mint more with: crossdock token --role partner --partner-id DHL --ttl 1h):",
    ]
    lines += [f"  export {role.upper()}_TOKEN={token}" for role, token in tokens.items()]
    page_vars = {"number": order_number or "SO-00001"}
    lines += [
        "",
        "Order page (as sales):",
        "  " + curl(url, "SALES_TOKEN", ORDER_PAGE, page_vars),
        "Order list (as admin):",
        "  " + curl(url, "ADMIN_TOKEN", ORDER_LIST),
        "Stock by warehouse (as logistics):",
        "  " + curl(url, "LOGISTICS_TOKEN", STOCK_BY_WAREHOUSE),
        "",
        *(_changes_fxiaoke() if fxiaoke else _changes_zoho()),
        "and they reach subscriptions, e.g. orderChanged. See what waits or failed with:",
        f"  crossdock sync status --inbox {sync_inbox}",
        "",
        "Ctrl-C stops the gateway and both emulations.",
    ]
    return "\n".join(lines)


def _changes_zoho() -> list[str]:
    return [
        "Changes made through either emulation's own API notify the gateway (POST /hooks/zoho,",
        "/hooks/erpnext; registered at startup); the sync rules carry them to the other system",
    ]


def _changes_fxiaoke() -> list[str]:
    return [
        f"Changes made through the Fxiaoke emulation's API are polled every {FXIAOKE_POLL_S} s "
        "(Fxiaoke has",
        "no notifications); ERPNext's notify the gateway (POST /hooks/erpnext); the sync rules",
        "carry them to the other system",
    ]


@dataclass(frozen=True)
class Demo:
    """A running demo: the gateway URL, the emulations, the tokens and the printed banner."""

    url: str
    emulations: Emulations | FxEmulations
    settings: Settings
    tokens: Mapping[str, str]
    banner: str
    app: Starlette | None = None  # the gateway's app (its change bus: app.state.change_bus)


@contextlib.asynccontextmanager
async def demo_running(
    *,
    data_dir: Path,
    scale: float = 1.0,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    emulation_ports: tuple[int | None, int | None] = (None, None),
    adjust: Callable[[Settings], Settings] | None = None,
    crm: str = "zoho",
    admin: bool = False,
) -> AsyncIterator[Demo]:
    """Emulations (seeded once) and the gateway on loopback until the block exits. `adjust`
    changes the demo's settings before the gateway is built (a bench polling only, say);
    `crm="fxiaoke"` runs the Fxiaoke emulation (port 8103) instead of Zoho's; `admin` opens
    the emulations' `/_emulator/*` knobs (tests make a backend fail with them)."""
    environ = dict(os.environ if env is None else env)
    running: contextlib.AbstractAsyncContextManager[Emulations | FxEmulations]
    if crm == "fxiaoke":
        running = fxiaoke_emulations_running(
            data_dir=data_dir,
            scale=scale,
            env=environ,
            fxiaoke_port_given=emulation_ports[0],
            erp_port=emulation_ports[1],
            admin=admin,
        )
    else:
        running = emulations_running(
            data_dir=data_dir,
            scale=scale,
            env=environ,
            zoho_port=emulation_ports[0],
            erp_port=emulation_ports[1],
            admin=admin,
        )
    async with running as emulations:
        server = demo_settings(emulations, data_dir, environ).server
        host = server.host
        bound = port if port is not None else server.port
        try:
            ensure_free(host, bound)
        except PortInUse as exc:
            raise exc.named("CROSSDOCK_PORT") from None
        bound = bound or free_port(host)  # the emulations must know it before it listens
        gateway_url = f"{server_scheme(server)}://{host}:{bound}"
        settings = demo_settings(emulations, data_dir, environ, gateway_url=gateway_url)
        if adjust is not None:
            settings = adjust(settings)
        backends = build_backends(settings)
        try:
            app = assemble(settings, crm=backends.crm, scm=backends.scm)
            first = await backends.crm.list_orders(first=1, after=None)
            number = first.items[0].number if first.items else None
            options = protocol_options(settings.server)
            tokens = role_tokens(settings)
            offer_demo_tokens(app, settings, tokens, dict(DEMO_ROLES))
            async with serving(app, host, bound, lifespan="on", **options) as actual:
                url = f"http://{host}:{actual}/graphql"
                fx = isinstance(emulations, FxEmulations)
                text = banner(url, tokens, number, settings.sync.inbox_path, fxiaoke=fx)
                yield Demo(url, emulations, settings, tokens, text, app)
        finally:
            await backends.aclose()


def free_port(host: str) -> int:
    """A port the OS says is free now (for a gateway asked to listen on port 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def server_scheme(server: ServerSettings) -> str:
    return "https" if server.tls_cert_file else "http"


def run_demo(*, data_dir: Path, scale: float = 1.0, crm: str = "zoho") -> None:
    """Serve the demo until SIGINT/SIGTERM, printing the banner once everything listens."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with demo_running(data_dir=data_dir, scale=scale, crm=crm) as demo:
            seeded = demo.emulations.seeded
            if seeded is not None:
                print(f"seeded {data_dir} in {seeded.seconds:.1f}s: {seeded.counts}")
            print(demo.emulations.describe())
            print(demo.banner, flush=True)
            await stop.wait()
        print("stopped.", flush=True)

    asyncio.run(main())
