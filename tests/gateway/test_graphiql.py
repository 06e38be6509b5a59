"""GraphiQL from the package: the page names only its own hashed assets, which are served
immutable, compressed, and exactly as vendored from npm (gateway/static/graphiql/manifest.json).
The browser side is tests/gateway/test_graphiql_browser.py."""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import re
import tomllib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway import graphiql
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, gateway_settings

ROOT = Path(__file__).resolve().parents[2]
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
async def browser(gateway_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client, as a browser opening the page is."""
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        yield client


def references(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', page)


async def test_the_page_names_only_its_own_hashed_assets(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]  # no inline scripts
    urls = [u for u in references(page.text) if u != "data:,"]
    assert len(urls) == len(graphiql.PAGE_SCRIPTS) + len(graphiql.PAGE_STYLES)
    for url in urls:
        assert re.fullmatch(r"/graphiql/[\w.-]+\.[0-9a-f]{12}\.(js|css)", url), url
    assert "unpkg" not in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no absolute URL at all
    assert "<script>" not in page.text  # the only inline script element is inert JSON


async def test_the_page_opens_on_the_order_page_query(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/graphql", headers=HTML)
    found = re.search(r'id="crossdock-config">(.*?)</script>', page.text)
    assert found is not None
    config = json.loads(found.group(1))
    assert "query OrderPage($number: String!)" in config["query"]
    assert json.loads(config["variables"]) == {"number": "SO-000001"}


async def test_assets_are_immutable_compressed_and_match_their_hash(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/graphql", headers=HTML)
    for url in (u for u in references(page.text) if u.startswith("/graphiql/")):
        plain = await browser.get(url, headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200, url
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["content-type"].startswith(
            "text/javascript" if url.endswith(".js") else "text/css"
        )
        digest = url.rsplit(".", 2)[1]
        assert hashlib.sha256(plain.content).hexdigest().startswith(digest)
        zipped = await browser.get(url, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == plain.content  # httpx decoded it
        assert int(zipped.headers["content-length"]) < len(plain.content)
        again = await browser.get(url, headers={"If-None-Match": plain.headers["etag"]})
        assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/graphiql-3.9.0.min.js",  # the committed name, not a hashed URL
        "/graphiql/graphiql-3.9.0.min.000000000000.js",
        "/graphiql/manifest.json",
        "/graphiql/..%2Fgraphiql.py",
        "/graphiql/",
    ],
)
async def test_anything_but_a_hashed_asset_is_not_found(
    browser: httpx.AsyncClient, path: str
) -> None:
    response = await browser.get(path)
    assert response.status_code == 404


async def test_with_graphiql_off_there_is_no_page_and_no_asset(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    settings = gateway_settings(tmp_path)
    settings = replace(settings, server=replace(settings.server, graphiql="off"))
    app = assemble(settings, crm=crm, scm=scm)
    url = next(u for u in graphiql.assets())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get(f"/graphiql/{url}")
    assert page.status_code == 401  # an operation request without a token, not a page
    assert asset.status_code == 404


def test_the_vendored_files_are_the_pinned_npm_builds() -> None:
    """manifest.json is written by scripts/vendor_graphiql.py from the npm tarballs."""
    manifest = json.loads((graphiql.ASSETS_DIR / "manifest.json").read_text(encoding="utf-8"))
    vendored = {}
    for package in manifest.values():
        vendored.update(package["files"])
    for name, sha256 in vendored.items():
        body = (graphiql.ASSETS_DIR / name).read_bytes()
        assert hashlib.sha256(body).hexdigest() == sha256, f"{name}: run make graphiql-assets"
    own = {"crossdock-graphiql.js", "crossdock-graphiql.css"}
    assert set(graphiql.PAGE_SCRIPTS + graphiql.PAGE_STYLES) - set(vendored) == own


def test_packaging_ships_every_file_of_the_page() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["gateway"]
    shipped = [
        path.relative_to(ROOT / "gateway").as_posix()
        for path in graphiql.ASSETS_DIR.iterdir()
        if any(fnmatch.fnmatch(path.relative_to(ROOT / "gateway").as_posix(), p) for p in patterns)
    ]
    for name in (*graphiql.PAGE_SCRIPTS, *graphiql.PAGE_STYLES, "manifest.json"):
        assert f"static/graphiql/{name}" in shipped


def test_the_gzipped_assets_stay_small() -> None:
    """What a browser downloads once (then keeps for a year): under 700 KB compressed."""
    total = sum(len(gzip.compress(a.body)) for a in graphiql.assets().values())
    assert total < 700_000
