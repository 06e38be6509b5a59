"""How uvicorn serves the gateway: `uvicorn_options(settings, host=..., port=...)`.

    uvicorn.run(app, **uvicorn_options(settings, host=None, port=None))

Where to listen, TLS when `[server] tls_*` are set, the bounded HTTP protocol
(`gateway.http_protocol`: header size, header and body time, connection count), and the
client address: `X-Forwarded-For` counts only from `[server] forwarded_allow_ips`. The list is
always passed, so uvicorn's own default (loopback) and its FORWARDED_ALLOW_IPS environment
variable never apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.http_protocol import guarded_protocol
from gateway.settings import Settings, SettingsError
from gateway.settings.server import ServerSettings


def uvicorn_options(settings: Settings, *, host: str | None, port: int | None) -> dict[str, Any]:
    """uvicorn's keyword arguments for serving the gateway with these settings."""
    server = settings.server
    options: dict[str, Any] = {
        "host": host or server.host,
        "port": port or server.port,
        **protocol_options(server),
    }
    if server.tls_cert_file and server.tls_key_file:
        for key, path in (
            ("tls_cert_file", server.tls_cert_file),
            ("tls_key_file", server.tls_key_file),
        ):
            if not Path(path).is_file():
                raise SettingsError(f"server.{key} {path} does not exist (a PEM file)")
        options |= {"ssl_certfile": server.tls_cert_file, "ssl_keyfile": server.tls_key_file}
    return options


def protocol_options(server: ServerSettings) -> dict[str, Any]:
    """The bounded protocol, and proxy headers trusted from `forwarded_allow_ips` only."""
    proxies = ",".join(server.forwarded_allow_ips)
    return {
        "http": guarded_protocol(server.connections),
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,  # given even when empty: uvicorn's default never applies
    }
