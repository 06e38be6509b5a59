"""The `[server]` settings section: where the gateway listens, its IDE, CSRF, CORS and TLS.

[server]
host = "127.0.0.1"            # CROSSDOCK_HOST
port = 8000                   # CROSSDOCK_PORT
graphiql = "graphiql"         # graphiql | apollo-sandbox | pathfinder | off (or true/false)
environment = "development"   # or "production"
csrf = true                   # refuse cross-site requests a browser sends without a preflight
cors_origins = []             # e.g. ["https://app.example"]; "*" is refused
tls_cert_file = "cert.pem"    # CROSSDOCK_TLS_CERT_FILE; with tls_key_file: serve HTTPS
tls_key_file = "key.pem"      # CROSSDOCK_TLS_KEY_FILE
forwarded_allow_ips = ["10.0.0.0/8"]  # proxies whose X-Forwarded-For gives the client address
                              # (rate limits per address need it behind a load balancer); none
                              # by default: X-Forwarded-For is ignored, whatever uvicorn's
                              # FORWARDED_ALLOW_IPS says ("*" there or here is refused)
max_header_bytes = 32768      # request line + headers, else 431
header_timeout_s = 10         # the headers' time from connection (or first byte), else 408
body_timeout_s = 30           # the body's time from its headers, else 408
max_connections = 1000        # open connections; one more is answered 503 and closed
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gateway.settings.access import Environment
from gateway.settings.section import Section, SettingsError, Table

GraphiQL = Literal["graphiql", "apollo-sandbox", "pathfinder", "off"]
GRAPHIQL_CHOICES: tuple[str, ...] = ("graphiql", "apollo-sandbox", "pathfinder", "off")


@dataclass(frozen=True)
class ConnectionLimits:
    """What a connection may cost before the application sees a request (gateway.http_protocol)."""

    max_header_bytes: int = 32_768
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_connections: int = 1000


@dataclass(frozen=True)
class ServerSettings:
    """Where the gateway listens and whether browsers get an IDE."""

    host: str = "127.0.0.1"
    port: int = 8000
    graphiql: GraphiQL = "graphiql"
    environment: Environment = "development"
    csrf: bool = True
    cors_origins: tuple[str, ...] = ()
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    forwarded_allow_ips: tuple[str, ...] = ()  # none: X-Forwarded-For is ignored
    connections: ConnectionLimits = ConnectionLimits()


def parse_server(table: Table, env: Mapping[str, str]) -> ServerSettings:
    s = Section("server", table, env)
    graphiql = s.raw("graphiql")
    if isinstance(graphiql, bool):
        ide = "graphiql" if graphiql else "off"
    else:
        ide = s.choice("graphiql", "graphiql", GRAPHIQL_CHOICES)
    result = ServerSettings(
        host=s.text("host", "127.0.0.1", env="CROSSDOCK_HOST"),
        port=s.integer("port", 8000, env="CROSSDOCK_PORT", low=1),
        graphiql=ide,  # type: ignore[arg-type]  # checked against GRAPHIQL_CHOICES above
        environment=(
            "production"
            if s.choice("environment", "development", ("development", "production")) == "production"
            else "development"
        ),
        csrf=s.flag("csrf", True),
        cors_origins=_origins(s),
        tls_cert_file=s.optional_text("tls_cert_file", env="CROSSDOCK_TLS_CERT_FILE"),
        tls_key_file=s.optional_text("tls_key_file", env="CROSSDOCK_TLS_KEY_FILE"),
        forwarded_allow_ips=_proxies(s, env),
        connections=_connection_limits(s),
    )
    s.check_unknown()
    if (result.tls_cert_file is None) != (result.tls_key_file is None):
        raise SettingsError(
            "server.tls_cert_file and server.tls_key_file go together: set both, or neither"
        )
    return result


def _origins(s: Section) -> tuple[str, ...]:
    origins = s.raw("cors_origins") or []
    if not isinstance(origins, list) or not all(isinstance(o, str) and o for o in origins):
        raise SettingsError(
            f"server.cors_origins must be a list of origins like 'https://app.example', "
            f"got {origins!r}"
        )
    if "*" in origins:
        raise SettingsError(
            "server.cors_origins may not be '*': bearer-token APIs list their origins"
        )
    return tuple(origins)


def _connection_limits(s: Section) -> ConnectionLimits:
    base = ConnectionLimits()
    return ConnectionLimits(
        max_header_bytes=s.integer("max_header_bytes", base.max_header_bytes, low=1024),
        header_timeout_s=_seconds(s, "header_timeout_s", base.header_timeout_s),
        body_timeout_s=_seconds(s, "body_timeout_s", base.body_timeout_s),
        max_connections=s.integer("max_connections", base.max_connections, low=1),
    )


def _seconds(s: Section, key: str, default: float) -> float:
    seconds = s.number(key, default)
    if seconds <= 0:
        raise SettingsError(f"server.{key} must be a number of seconds > 0, got {seconds!r}")
    return seconds


def _proxies(s: Section, env: Mapping[str, str]) -> tuple[str, ...]:
    # uvicorn reads FORWARDED_ALLOW_IPS when it is not given the list; the gateway always
    # gives it, so the variable never applies; "*" there is refused rather than ignored.
    if "*" in (p.strip() for p in env.get("FORWARDED_ALLOW_IPS", "").split(",")):
        raise SettingsError(
            "FORWARDED_ALLOW_IPS='*' is refused: any client could then choose the address its "
            "rate limits are kept under; unset it and list the load balancers' networks in "
            "[server] forwarded_allow_ips"
        )
    proxies = s.raw("forwarded_allow_ips") or []
    if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
        raise SettingsError(
            "server.forwarded_allow_ips must be a list of proxy addresses or networks like "
            f"['10.0.0.0/8'], got {proxies!r}"
        )
    for proxy in proxies:
        if proxy == "*":
            raise SettingsError(
                "server.forwarded_allow_ips may not be '*': any client could then choose the "
                "address its rate limits are kept under; list the load balancers' networks"
            )
        try:
            network = ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"server.forwarded_allow_ips: {proxy!r} is not an IP address or network "
                "(e.g. '10.0.0.7' or '10.0.0.0/8')"
            ) from None
        if network.prefixlen == 0:
            raise SettingsError(
                f"server.forwarded_allow_ips may not be {proxy!r}: that is every address, "
                "like '*'; list the load balancers' networks"
            )
    return tuple(proxies)
