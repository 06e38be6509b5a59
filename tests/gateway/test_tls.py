"""TLS on real loopback sockets, with certificates generated in the test.

The gateway serves HTTPS with `[server] tls_cert_file` / `tls_key_file` (the uvicorn options
`crossdock serve` uses), and a client trusting that certificate queries it; an ERPNext
emulation behind TLS with a private CA is reached by a connector built from settings with
`[scm] ca_bundle`, and refused without it.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from backends.serve import serving as serve
from gateway.cli import uvicorn_options
from gateway.settings import Settings, SettingsError, parse_settings
from gateway.wiring import build_backends
from resolvers.errors import BackendError
from tests.support.stack import JWT_SECRET, token_for

pytestmark = pytest.mark.sockets


@dataclass(frozen=True)
class Pki:
    """A private CA and a server certificate for 127.0.0.1 signed by it, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(directory: Path) -> Pki:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Crossdock test CA"))
        .issuer_name(_name("Crossdock test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


def serving(app: Any, **options: Any) -> AbstractAsyncContextManager[int]:
    """`app` on a loopback port in this event loop (backends.serve.serving); yields the port."""
    where = {"host": "127.0.0.1", "port": 0, **options}
    return serve(app, where.pop("host"), where.pop("port"), timeout_graceful_shutdown=1, **where)


def with_server(settings: Settings, **server: Any) -> Settings:
    document = {
        "auth": {"hs256_secret": settings.auth.hs256_secret},
        "crm": {"accounts_url": "http://zoho.test", "client_id": "c", "client_secret": "s",
                "refresh_token": "r"},
        "scm": {"base_url": "http://erp.test", "api_key": "k", "api_secret": "s"},
        "server": {"host": "127.0.0.1", "port": 1, **server},
        "saga": {"enabled": False},
        "policy": {"audit_log": ""},
    }  # fmt: skip
    return parse_settings(document)


async def test_the_gateway_serves_https_with_the_configured_certificate(
    gateway_app: Starlette, settings: Settings, pki: Pki
) -> None:
    tls = with_server(settings, tls_cert_file=str(pki.cert_file), tls_key_file=str(pki.key_file))
    options = {**uvicorn_options(tls, host=None, port=None), "port": 0}
    trust = ssl.create_default_context(cafile=str(pki.ca_file))
    headers = {"authorization": f"Bearer {token_for('admin')}", "x-crossdock-csrf": "1"}

    async with serving(gateway_app, **options) as port, httpx.AsyncClient(verify=trust) as client:
        response = await client.post(
            f"https://127.0.0.1:{port}/graphql",
            json={"query": "{ viewer { roles } }"},
            headers=headers,
        )

    assert options["ssl_certfile"] == str(pki.cert_file)
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"roles": ["admin"]}}}


def test_a_missing_certificate_file_is_a_settings_error(settings: Settings, pki: Pki) -> None:
    tls = with_server(settings, tls_cert_file="/nope/cert.pem", tls_key_file=str(pki.key_file))

    with pytest.raises(SettingsError, match=r"tls_cert_file /nope/cert\.pem does not exist"):
        uvicorn_options(tls, host=None, port=None)


def backend_settings(port: int, ca_bundle: str | None, http_client: str = "aiohttp") -> Settings:
    scm: dict[str, Any] = {
        "base_url": f"https://127.0.0.1:{port}",
        "api_key": "crossdock-demo",
        "api_secret": "crossdock-demo-secret",
        "retries": 0,
        "http_client": http_client,
    }
    if ca_bundle is not None:
        scm["ca_bundle"] = ca_bundle
    return parse_settings(
        {
            "auth": {"hs256_secret": JWT_SECRET},
            "crm": {"accounts_url": "http://zoho.test", "client_id": "c", "client_secret": "s",
                    "refresh_token": "r"},
            "scm": scm,
            "saga": {"enabled": False},
        }
    )  # fmt: skip


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx"])
async def test_a_backend_behind_a_private_ca_is_verified_with_the_configured_bundle(
    scm_emulator: ErpEmulator, pki: Pki, http_client: str
) -> None:
    """Over either client `[scm] http_client` names (aiohttp by default, httpx the fallback)."""
    tls = {"ssl_certfile": str(pki.cert_file), "ssl_keyfile": str(pki.key_file)}
    async with serving(scm_emulator.app, host="127.0.0.1", port=0, **tls) as port:
        trusted = build_backends(backend_settings(port, str(pki.ca_file), http_client))
        untrusted = build_backends(backend_settings(port, None, http_client))
        assert (
            type(trusted.clients[1]).__name__
            == {
                "aiohttp": "AiohttpTransport",
                "httpx": "HttpxTransport",
            }[http_client]
        )
        try:
            await trusted.scm.ping()
            with pytest.raises(BackendError):
                await untrusted.scm.ping()
        finally:
            await trusted.aclose()
            await untrusted.aclose()
    assert scm_emulator.stats.total >= 1  # the trusted ping reached the emulation


def test_an_unknown_http_client_is_a_settings_error_naming_the_key_and_the_choices() -> None:
    expected = r"scm\.http_client must be one of \['aiohttp', 'httpx'\], got 'requests'"
    with pytest.raises(SettingsError, match=expected):
        backend_settings(1, None, "requests")


def test_an_unreadable_ca_bundle_is_a_settings_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate", encoding="utf-8")

    with pytest.raises(SettingsError, match=r"scm\.ca_bundle .* cannot be loaded"):
        build_backends(backend_settings(1, str(bogus)))
