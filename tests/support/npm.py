"""Pinned npm tools for tests: `npm ci` once per folder, then node runs them.

Several test folders drive real JavaScript clients or tools (the GraphQL-over-HTTP audit,
the graphql-ws / graphql-sse clients, the federation composers and Apollo Gateway), each
pinned by the package.json and package-lock.json beside its tests.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL_TIMEOUT_S = 300


def node_with(folder: Path, package: str, purpose: str) -> str:
    """The path of `node`, with `folder`'s locked dependencies installed (`package` is one of
    them, whose presence says the install is done). Parallel test workers take a file lock,
    so one installs and the others wait. Skips when node or npm is missing; fails, naming the
    cause, when the install fails."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(f"node and npm are needed to {purpose} (not on PATH)")
    marker = folder / "node_modules" / package / "package.json"
    with (folder / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            _install(npm, folder)
    return node


def _install(npm: str, folder: Path) -> None:
    installed = subprocess.run(  # noqa: S603 - fixed arguments, lockfile-pinned install
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        timeout=INSTALL_TIMEOUT_S,
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        pytest.fail(
            f"npm ci in {folder} failed (is the npm registry reachable?):\n{installed.stderr}"
        )
