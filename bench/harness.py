"""The bench harness: the emulations and the gateway as real processes, and timed load.

Both emulations run in one child process (`backends.serve.run_emulations`, admin endpoint on,
so call counts and the latency knob are read and set over `/_emulator/*`); the gateway runs
in another (`python -m gateway serve`, the production entry point), optionally under
cProfile. The load generator and the floor client run in the bench process. CPU time and
peak RSS of the gateway come from `/proc/<pid>`, so they count the gateway alone.

    async with emulations(data_dir, scale=1.0) as emu, gateway(emu, workdir) as gw:
        await emu.set_latency(20)
        timing = await measure(call, requests=50, concurrency=16, budget_s=5)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

EMULATIONS_SCRIPT = """
import sys
from pathlib import Path
from backends.serve import run_emulations
run_emulations(data_dir=Path(sys.argv[1]), zoho_port=int(sys.argv[2]), erp_port=int(sys.argv[3]),
               scale=float(sys.argv[4]), admin=True)
"""
# Fxiaoke's tenant with its call limits lifted: the bench measures the gateway, not the quota
# (100 calls / 20 s per interface would make every phase wait for the limiter).
FXIAOKE_SCRIPT = """
import asyncio, signal, sys
from pathlib import Path
from backends.fxiaoke.app import FxiaokeSettings
from backends.fxiaoke.limits import LimitSettings
from backends.fxiaoke.serve import fxiaoke_emulations_running

async def main():
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    limits = LimitSettings(interface_calls=10**9, daily_quota=10**9)
    async with fxiaoke_emulations_running(
        data_dir=Path(sys.argv[1]), fxiaoke_port_given=int(sys.argv[2]),
        erp_port=int(sys.argv[3]), scale=float(sys.argv[4]),
        settings=FxiaokeSettings(admin_enabled=True, limits=limits),
    ) as running:
        print(running.describe(), flush=True)
        await stop.wait()

asyncio.run(main())
"""
CRMS = ("zoho", "fxiaoke")
STARTUP_TIMEOUT_S = 60.0
# The gateway's JWT secret in the bench (children get no CROSSDOCK_* variables to override it).
BENCH_SECRET = "crossdock-bench-secret-0123456789-0123456789"
# The default cost limit (20,000) refuses W2: its estimate assumes 20 items per list.
BENCH_MAX_COST = 10_000_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    """A loopback port that was free a moment ago (the child binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class BenchError(RuntimeError):
    """A process of the bench did not start or answer; the message says which and why."""


@dataclass(frozen=True)
class ProcessUsage:
    """CPU seconds (user + system) and peak resident set of one process, from /proc."""

    cpu_s: float
    peak_rss_mb: float

    @classmethod
    def of(cls, pid: int) -> ProcessUsage:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (stat(5) 14, 15)
        peak_kb = 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
        return cls(cpu_s=cpu, peak_rss_mb=peak_kb / 1024)


def _tail(log: Path, lines: int = 5) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.strip().splitlines()[-lines:])


async def _wait_until_up(url: str, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(
                    f"{what} exited with status {proc.returncode} before answering; "
                    f"the end of {log.name}:\n{_tail(log)}"
                )
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise BenchError(f"{what} did not answer {url} within {STARTUP_TIMEOUT_S:.0f}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly; cProfile then writes out
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _spawn(argv: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, *argv], stdout=out, stderr=subprocess.STDOUT, env=_clean_env()
        )


def _clean_env() -> dict[str, str]:
    """The environment without CROSSDOCK_* settings, which would override the bench's own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}


class Emulations:
    """The running emulations: their URLs, request counters and latency knob. `crm` is "zoho"
    or "fxiaoke": which CRM answers at `crm_url`."""

    def __init__(
        self, crm_url: str, erp_url: str, admin: httpx.AsyncClient, *, crm: str = "zoho"
    ) -> None:
        self.crm_url = crm_url
        self.erp_url = erp_url
        self.crm = crm
        self._admin = admin

    @property
    def zoho_url(self) -> str:
        if self.crm != "zoho":
            raise BenchError(f"the emulated CRM is {self.crm}, not Zoho")
        return self.crm_url

    async def set_latency(self, ms: float) -> None:
        for base in (self.crm_url, self.erp_url):
            reply = await self._admin.post(f"{base}/_emulator/faults", json={"latency_ms": ms})
            reply.raise_for_status()

    async def reset_calls(self) -> None:
        for base in (self.crm_url, self.erp_url):
            (await self._admin.post(f"{base}/_emulator/stats/reset")).raise_for_status()

    async def calls(self) -> int:
        """Requests both systems served since the last reset."""
        total = 0
        for base in (self.crm_url, self.erp_url):
            reply = await self._admin.get(f"{base}/_emulator/stats")
            reply.raise_for_status()
            total += int(reply.json()["total"])
        return total


@contextlib.asynccontextmanager
async def emulations(
    data_dir: Path, *, scale: float, crm: str = "zoho"
) -> AsyncIterator[Emulations]:
    """The CRM's emulation (`crm`: "zoho" or "fxiaoke") and ERPNext's, seeded to agree, in a
    child process on loopback, seeded at `scale` on first start."""
    if crm not in CRMS:
        raise BenchError(f"unknown CRM {crm!r}: expected one of {', '.join(CRMS)}")
    ports = (free_port(), free_port())
    script = FXIAOKE_SCRIPT if crm == "fxiaoke" else EMULATIONS_SCRIPT
    argv = ["-c", script, str(data_dir), str(ports[0]), str(ports[1]), str(scale)]
    log = data_dir / "emulations.log"
    proc = _spawn(argv, log)
    crm_url, erp = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        await _wait_until_up(f"{crm_url}/_emulator/stats", proc, f"the {crm} emulation", log)
        await _wait_until_up(f"{erp}/_emulator/stats", proc, "the ERPNext emulation", log)
        async with httpx.AsyncClient(timeout=10.0) as admin:
            yield Emulations(crm_url, erp, admin, crm=crm)
    finally:
        _stop(proc)


def gateway_config(emu: Emulations, port: int, workdir: Path) -> str:
    """The gateway's TOML settings for the emulations: the demo credentials, the bench's JWT
    secret, the shipped policy with its audit log, no IDE, no order process (the workloads
    only read, and the saga would need a journal key), no rate limit and a cost limit that
    lets W2 through; every other hardening default stays on."""
    return f"""
[server]
host = "127.0.0.1"
port = {port}
graphiql = "off"
environment = "development"

[auth]
hs256_secret = "{BENCH_SECRET}"

[policy]
audit_log = "{workdir / "audit.log"}"

[saga]
enabled = false

[limits]
max_cost = {BENCH_MAX_COST}

[rate_limits]
enabled = false  # the load generator is one caller; a limiter would answer it 429

[graphql]
max_first = 200

{_crm_section(emu)}

[scm]
base_url = "{emu.erp_url}"
api_key = "crossdock-demo"
api_secret = "crossdock-demo-secret"
max_connections = 50
"""


def _crm_section(emu: Emulations) -> str:
    """`[crm]` for the emulated CRM: the demo credentials; over Fxiaoke the tenant's call
    limits lifted as they are at the emulation. Tools outside the project (the peer bench)
    pass any object with `zoho_url` and `erp_url`: that is Zoho."""
    if getattr(emu, "crm", "zoho") == "fxiaoke":
        return f"""[crm]
kind = "fxiaoke"
base_url = "{emu.crm_url}"
app_id = "FSAID_crossdock_demo"
app_secret = "crossdock-demo-secret"
permanent_code = "crossdock-demo-permanent"
open_user_id = "FSUID_CROSSDOCK_ADMIN"
calls_per_interface = 1000000000
daily_quota = 1000000000
max_connections = 50"""
    return f"""[crm]
accounts_url = "{emu.zoho_url}"
base_url = "{emu.zoho_url}"
client_id = "crossdock-demo"
client_secret = "crossdock-demo-secret"
refresh_token = "crossdock-demo-refresh"
max_connections = 50"""


@dataclass
class Gateway:
    """The running gateway process: its URL and its /proc usage."""

    url: str
    pid: int

    def usage(self) -> ProcessUsage:
        return ProcessUsage.of(self.pid)


@contextlib.asynccontextmanager
async def gateway(
    emu: Emulations, workdir: Path, *, profile_to: Path | None = None
) -> AsyncIterator[Gateway]:
    """`python -m gateway serve` in a child process; under cProfile when `profile_to` is set."""
    port = free_port()
    config = _write(workdir / "gateway.toml", gateway_config(emu, port, workdir))
    profiler = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
    argv = [*profiler, "-m", "gateway", "serve", "--config", str(config)]
    log = workdir / "gateway.log"
    proc = _spawn(argv, log)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_up(f"{url}/healthz", proc, "the gateway", log)
        yield Gateway(url=url, pid=proc.pid)
    finally:
        _stop(proc)


@dataclass(frozen=True)
class Timing:
    """Latencies of the requests of one load phase, and how long the phase took."""

    latencies_s: tuple[float, ...]
    wall_s: float

    @property
    def requests(self) -> int:
        return len(self.latencies_s)

    @property
    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s > 0 else 0.0

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile in seconds (`share` in (0, 1])."""
        ordered = sorted(self.latencies_s)
        if not ordered:
            return 0.0
        rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))  # ceil(share * n)
        return ordered[min(rank, len(ordered)) - 1]


async def measure(
    call: Callable[[], Awaitable[object]], *, requests: int, concurrency: int, budget_s: float
) -> Timing:
    """Run `call` up to `requests` times, `concurrency` at a time, stopping after `budget_s`
    (at least one round of `concurrency` requests always runs)."""
    latencies: list[float] = []
    start = time.perf_counter()
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while issued < requests:
            if latencies and time.perf_counter() - start > budget_s:
                return
            issued += 1
            began = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Timing(tuple(latencies), time.perf_counter() - start)
