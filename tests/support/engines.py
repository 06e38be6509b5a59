"""Real PostgreSQL and Redis servers for tests and the scale-out bench, on loopback ports.

    with PostgresServer.start() as pg, RedisServer.start() as redis:
        url = pg.create_database("t1")          # postgresql://crossdock@127.0.0.1:PORT/t1
        redis.url                               # redis://127.0.0.1:PORT/0

PostgreSQL: `initdb` into a temporary directory (trust authentication, loopback only, no
fsync: test data), `pg_ctl` on a free port; as root it runs as the `postgres` user (initdb
refuses root). The binaries come from CROSSDOCK_PG_BIN, the PATH, or Debian's
/usr/lib/postgresql/<version>/bin. Redis: `redis-server` on a free port, nothing persisted.
`missing()` says what is not installed and how to install it (the tests skip with it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_ENV = "CROSSDOCK_PG_BIN"
HOW_TO_INSTALL = (
    "install them with `apt-get install -y postgresql redis-server` (Debian; .ci/run does it "
    f"when run as root) or point {PG_BIN_ENV} at PostgreSQL's bin directory"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    given = os.environ.get(PG_BIN_ENV)
    if given:
        return Path(given) if (Path(given) / "initdb").exists() else None
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version)
    return versions[-1].parent if versions else None


def _version(path: Path) -> float:
    try:
        return float(path.parent.parent.name)
    except ValueError:
        return 0.0


def missing() -> str | None:
    """Why the engines cannot run here (with how to install them), or None."""
    absent = []
    if pg_bin() is None:
        absent.append("PostgreSQL (initdb, pg_ctl)")
    if shutil.which("redis-server") is None:
        absent.append("redis-server")
    if not absent:
        return None
    return f"{' and '.join(absent)} not found: {HOW_TO_INSTALL}"


def _as_postgres() -> list[str]:
    """`runuser -u postgres --` when root (initdb and postgres refuse to run as root)."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")  # KeyError: no such user (the Debian package creates it)
    return ["runuser", "-u", "postgres", "--"]


def _wait_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster (user `crossdock`, trust auth on loopback)."""

    bin: Path
    data: Path
    port: int

    durable: bool = False

    @classmethod
    @contextlib.contextmanager
    def start(cls, *, durable: bool = False) -> Iterator[PostgresServer]:
        """`durable`: fsync on, as in production (the bench); tests run without it."""
        found = pg_bin()
        if found is None:
            raise RuntimeError(missing() or "PostgreSQL not found")
        root = Path(tempfile.mkdtemp(prefix="crossdock-pg-"))
        prefix = _as_postgres()
        if prefix:
            shutil.chown(root, "postgres", "postgres")
        data = root / "data"
        subprocess.run(  # noqa: S603 - fixed arguments
            [*prefix, str(found / "initdb"), "-D", str(data), "-U", "crossdock", "-A", "trust"],
            check=True,
            capture_output=True,
        )
        server = cls(found, data, free_port(), durable)
        try:
            server.run()
            yield server
        finally:
            server.stop()
            shutil.rmtree(root, ignore_errors=True)

    @property
    def base_url(self) -> str:
        return f"postgresql://crossdock@127.0.0.1:{self.port}"

    def run(self) -> None:
        fsync = "on" if self.durable else "off"
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync={fsync} "
            "-c max_connections=200"
        )
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                *_as_postgres(),
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.data / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        _wait_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [*_as_postgres(), str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"],
            check=False,
            capture_output=True,
        )

    def create_database(self, name: str) -> str:
        """A fresh database; its URL."""
        import psycopg

        with psycopg.connect(self.base_url + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return f"{self.base_url}/{name}"


@dataclass
class RedisServer:
    """A throwaway redis-server (no persistence)."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    @contextlib.contextmanager
    def start(cls) -> Iterator[RedisServer]:
        server = cls(free_port())
        try:
            server.run()
            yield server
        finally:
            server.stop()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def run(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError(missing() or "redis-server not found")
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def flush(self) -> None:
        import redis

        with redis.Redis(port=self.port) as client:
            client.flushall()
