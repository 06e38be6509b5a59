"""Vendor GraphiQL into the package: `make graphiql-assets` (needs npm; run once per upgrade).

The gateway serves GraphiQL from `gateway/static/graphiql/` so that the page works on a machine
without internet. This script takes the pinned builds from the npm registry with npm's own
client (`npm pack`), checks each tarball against the integrity pinned below (the registry's
`dist.integrity`, sha512), copies the few files the page needs with their licences, and writes
`manifest.json` (package, version, tarball integrity, sha256 of each file) that the tests check
the committed files against. The output is committed; nothing is fetched at install or run time.

To upgrade: change a version, set its integrity from `npm view PACKAGE@VERSION dist.integrity`,
run `make graphiql-assets`, then `make test` (the browser test loads the result).
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "gateway" / "static" / "graphiql"


@dataclass(frozen=True)
class Pin:
    """One npm package: its version, the tarball's integrity and the files taken from it."""

    name: str
    version: str
    integrity: str
    files: dict[str, str]  # path in the tarball → file name in TARGET


PINS = (
    Pin(
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        {
            "package/umd/react.production.min.js": "react-18.3.1.production.min.js",
            "package/LICENSE": "LICENSE.react.txt",
        },
    ),
    Pin(
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        {
            "package/umd/react-dom.production.min.js": "react-dom-18.3.1.production.min.js",
            "package/LICENSE": "LICENSE.react-dom.txt",
        },
    ),
    Pin(
        "graphiql",
        "3.9.0",
        "sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA==",
        {
            "package/graphiql.min.js": "graphiql-3.9.0.min.js",
            "package/graphiql.min.css": "graphiql-3.9.0.min.css",
            "package/LICENSE": "LICENSE.graphiql.txt",
        },
    ),
)


def integrity_of(data: bytes) -> str:
    """npm's integrity string (Subresource Integrity form) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def pack(pin: Pin, into: Path) -> Path:
    """`npm pack NAME@VERSION` into `into`; the tarball must match the pinned integrity."""
    spec = f"{pin.name}@{pin.version}"
    out = subprocess.run(  # noqa: S603  # a fixed command; the spec comes from PINS
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = into / json.loads(out.stdout)[0]["filename"]
    found = integrity_of(tarball.read_bytes())
    if found != pin.integrity:
        raise SystemExit(f"{spec}: tarball integrity {found} is not the pinned {pin.integrity}")
    return tarball


def extract(pin: Pin, tarball: Path) -> dict[str, str]:
    """Copies the pin's files into TARGET; returns file name → sha256 hex."""
    digests: dict[str, str] = {}
    with tarfile.open(tarball) as archive:
        for member, name in pin.files.items():
            source = archive.extractfile(member)
            if source is None:
                raise SystemExit(f"{pin.name}@{pin.version}: {member} is not a file")
            data = source.read()
            (TARGET / name).write_bytes(data)
            digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pin in PINS:
            tarball = pack(pin, Path(tmp))
            manifest[pin.name] = {
                "version": pin.version,
                "integrity": pin.integrity,
                "files": extract(pin, tarball),
            }
            print(f"vendored {pin.name}@{pin.version}")
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (TARGET / "manifest.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
