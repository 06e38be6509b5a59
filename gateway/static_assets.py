"""Files shipped in the package and served at content-hashed URLs (GraphiQL, the console).

    found = load_assets(directory, ("app.js", "app.css"))   # by URL name: app.3f2a9c1b7e4d.js
    response = asset_response(found, request)                # 404, 304, or the file (gzip)

A URL name is the file's stem, the first 12 hex digits of its sha256, and its suffix, so a
changed file gets a new URL and every URL can be cached for a year (`immutable`).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One shipped file, committed as `name`, addressed by `url_name`."""

    name: str
    url_name: str
    body: bytes
    media_type: str

    @functools.cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, compresslevel=6, mtime=0)


def load_assets(directory: Path, names: Iterable[str]) -> dict[str, Asset]:
    """The files `names` of `directory` by URL name (read now: call it once per process)."""
    found: dict[str, Asset] = {}
    for name in names:
        path = directory / name
        body = path.read_bytes()
        url_name = f"{path.stem}.{hashlib.sha256(body).hexdigest()[:12]}{path.suffix}"
        found[url_name] = Asset(name, url_name, body, MEDIA_TYPES[path.suffix])
    return found


def url_name_of(found: Mapping[str, Asset], name: str) -> str:
    """The URL name of the file committed as `name`."""
    return next(a.url_name for a in found.values() if a.name == name)


def asset_response(found: Mapping[str, Asset], request: Request) -> Response:
    """The asset named by the path parameter `name` (gzip when accepted), else 404."""
    asset = found.get(request.path_params["name"])
    if asset is None:
        return PlainTextResponse("Not Found", status_code=404)
    etag = f'"{asset.url_name}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Vary": "Accept-Encoding"}
    headers["X-Content-Type-Options"] = "nosniff"
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)
