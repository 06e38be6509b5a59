"""Gateway replicas as separate `crossdock serve` processes over emulations in another process.

    with Emulations.start(tmp_path) as emu:
        config = write_config(tmp_path, emu)
        with Replica.start(config, state) as a, Replica.start(config, state) as b:
            httpx.post(a.url + "/graphql", ...)

Each replica is its own interpreter, with its own connections, locks and lease owner id:
all they share is what the state layer shares (PostgreSQL and Redis). The emulations serve
with their admin endpoint on (`/_emulator/*` knobs: held writes, latency, stats).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from resolvers.state.config import StateSettings
from tests.support.engines import free_port
from tests.support.stack import JOURNAL_KEY, JWT_SECRET

EMULATIONS = """
import sys
from pathlib import Path
from backends.serve import run_emulations
run_emulations(data_dir=Path(sys.argv[1]), zoho_port=int(sys.argv[2]), erp_port=int(sys.argv[3]),
               scale=float(sys.argv[4]), admin=True)
"""


def _environ(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    base.pop("WEB_CONCURRENCY", None)
    return base | extra


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with status {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


def wait_until_workers_serve(
    log: Path, workers: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0
) -> None:
    """Until each of `workers` uvicorn workers has logged its startup: /healthz answering
    means one worker serves, and a worker still importing when a test sends SIGTERM dies
    without the shutdown the test then looks for (seen on a fresh clone, no bytecode yet)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{log.name}: the process exited with status {process.returncode}")
        text = log.read_text(encoding="utf-8", errors="replace")
        if text.count("Application startup complete.") >= workers:
            return
        time.sleep(0.1)
    raise TimeoutError(f"{log.name}: fewer than {workers} workers started within {timeout_s} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Emulations:
    """Both emulations in a process of their own; their SQLite files are in `data`."""

    data: Path
    zoho_url: str
    erp_url: str

    @classmethod
    @contextlib.contextmanager
    def start(cls, root: Path, scale: float = 0.05) -> Iterator[Emulations]:
        data = root / "emulations"
        zoho, erp = free_port(), free_port()
        command = [sys.executable, "-c", EMULATIONS, str(data), str(zoho), str(erp), str(scale)]
        log = (root / "emulations.log").open("wb")
        process = subprocess.Popen(command, env=_environ({}), stdout=log, stderr=log)  # noqa: S603
        emulations = cls(data, f"http://127.0.0.1:{zoho}", f"http://127.0.0.1:{erp}")
        try:
            wait_until_up(emulations.erp_url + "/_emulator/stats", process)
            wait_until_up(emulations.zoho_url + "/_emulator/stats", process)
            yield emulations
        finally:
            stop(process)
            log.close()

    def hold(self, method: str, path: str, hold_ms: int) -> None:
        """Hold the ERP's next matching write `hold_ms` (it commits afterwards regardless)."""
        body = {"method": method, "path": path, "hold_ms": hold_ms}
        httpx.post(self.erp_url + "/_emulator/held", json=body).raise_for_status()

    def held(self) -> int:
        """How many requests the ERP's held-write knobs have held so far."""
        knobs = httpx.get(self.erp_url + "/_emulator/held").json()["held"]
        return sum(int(k["held"]) for k in knobs)


def write_config(
    root: Path, emulations: Emulations, extra: str = "", *, name: str = "crossdock.toml"
) -> Path:
    """A gateway config over the emulations; state URLs and secrets come from the env."""
    config = root / name
    config.write_text(
        f"""
[server]
graphiql = "off"
[crm]
accounts_url = "{emulations.zoho_url}"
base_url = "{emulations.zoho_url}"
client_id = "crossdock-demo"
client_secret = "crossdock-demo-secret"
refresh_token = "crossdock-demo-refresh"
[scm]
base_url = "{emulations.erp_url}"
api_key = "crossdock-demo"
api_secret = "crossdock-demo-secret"
[policy]
audit_log = ""
[saga]
resolve_interval_s = 1
[saga.approval]
require_credit = false
[state]
lease_s = 3
lock_ttl_s = 3
lock_wait_s = 30
{extra}
""",
        encoding="utf-8",
    )
    return config


@dataclass
class Replica:
    """One `crossdock serve` process sharing `state` with the others."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        config: Path,
        state: StateSettings,
        *,
        workers: int = 1,
        name: str = "replica",
        port: int | None = None,
    ) -> Iterator[Replica]:
        """`port`: one chosen beforehand (a config that names the replica's own URL)."""
        assert state.postgres_url is not None
        assert state.redis_url is not None
        port = port or free_port()
        env = _environ(
            {
                "CROSSDOCK_POSTGRES_URL": state.postgres_url,
                "CROSSDOCK_REDIS_URL": state.redis_url,
                "CROSSDOCK_JWT_SECRET": JWT_SECRET,
                "CROSSDOCK_JOURNAL_KEY": JOURNAL_KEY,
            }
        )
        command = [sys.executable, "-m", "gateway", "serve", "--config", str(config)]
        command += ["--port", str(port), "--workers", str(workers), "--graceful-timeout", "5"]
        log = config.parent / f"{name}-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=out)  # noqa: S603
        replica = cls(f"http://127.0.0.1:{port}", process, log)
        try:
            wait_until_up(replica.url + "/healthz", process)
            wait_until_workers_serve(log, workers, process)
            yield replica
        finally:
            stop(process)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no lease or lock released, as when a machine dies."""
        self.process.kill()
        self.process.wait()

    def served_by(self) -> dict[str, int]:
        """Requests to /graphql per worker pid, from the access log."""
        counts: dict[str, int] = {}
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"POST /graphql' in line and "[" in line:
                pid = line.split("[", 1)[1].split("]", 1)[0]
                counts[pid] = counts.get(pid, 0) + 1
        return counts
