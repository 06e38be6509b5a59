"""`python -m bench.protocol [--requests N] [--rounds R]`: what the bounded protocol costs.

One child process serves the gateway's `/healthz` app three ways on loopback, on one event
loop (uvloop when installed, as `crossdock serve`): uvicorn's httptools protocol as it was,
the guarded protocol (`gateway.http_protocol`), and uvicorn's h11 protocol with its header
limit (`h11_max_incomplete_event_size`), the built-in alternative. This process sends N
requests over one keep-alive connection, then N requests each on a new connection, to each
server in turn, R rounds interleaved, and prints the median microseconds per request and
the ratio to httptools as it was (same process, same minute).
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import statistics
import time
from collections.abc import Callable
from typing import Any

REQUEST = b"GET /healthz HTTP/1.1\r\nhost: bench\r\n\r\n"
CLOSING = b"GET /healthz HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n"
SERVERS = ("httptools", "guarded", "h11")


def _serve(ports: Any, ready: Any) -> None:
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from backends.serve import serving
    from gateway.http_protocol import guarded_protocol
    from gateway.runtime import loop_factory
    from gateway.settings.server import ConnectionLimits

    async def healthz(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/healthz", healthz)])
    options: dict[str, dict[str, Any]] = {
        "httptools": {"http": "httptools"},
        "guarded": {"http": guarded_protocol(ConnectionLimits())},
        "h11": {"http": "h11", "h11_max_incomplete_event_size": 32_768},
    }

    async def main() -> None:
        async with (
            serving(app, "127.0.0.1", 0, access_log=False, **options["httptools"]) as a,
            serving(app, "127.0.0.1", 0, access_log=False, **options["guarded"]) as b,
            serving(app, "127.0.0.1", 0, access_log=False, **options["h11"]) as c,
        ):
            ports[:] = [a, b, c]
            ready.set()
            await asyncio.Event().wait()

    factory = loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())


def _read_response(sock: socket.socket, pending: bytes) -> bytes:
    """Reads one response with a Content-Length body; returns the bytes after it."""
    while b"\r\n\r\n" not in pending:
        pending += sock.recv(65_536)
    head, _, rest = pending.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += sock.recv(65_536)
    return rest[length:]


def keep_alive(port: int, count: int) -> float:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        start = time.perf_counter()
        for _ in range(count):
            sock.sendall(REQUEST)
            pending = _read_response(sock, pending)
        return (time.perf_counter() - start) / count


def new_connections(port: int, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(CLOSING)
            _read_response(sock, b"")
    return (time.perf_counter() - start) / count


def measure(requests: int, rounds: int, ports: list[int]) -> dict[str, dict[str, float]]:
    modes: dict[str, Callable[[int, int], float]] = {
        "keep-alive": keep_alive,
        "new connection": new_connections,
    }
    samples: dict[str, dict[str, list[float]]] = {m: {s: [] for s in SERVERS} for m in modes}
    for _ in range(rounds):
        for mode, run in modes.items():
            for name, port in zip(SERVERS, ports, strict=True):
                samples[mode][name].append(run(port, requests))
    return {
        mode: {name: statistics.median(values) for name, values in by_server.items()}
        for mode, by_server in samples.items()
    }


def report(medians: dict[str, dict[str, float]]) -> str:
    lines = ["| mode | " + " | ".join(SERVERS) + " |", "|---" * (len(SERVERS) + 1) + "|"]
    for mode, by_server in medians.items():
        base = by_server["httptools"]
        cells = [f"{by_server[s] * 1e6:.0f} µs ({by_server[s] / base:.2f}×)" for s in SERVERS]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per sample")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    args = parser.parse_args()
    manager = multiprocessing.Manager()
    ports, ready = manager.list(), manager.Event()
    child = multiprocessing.Process(target=_serve, args=(ports, ready), daemon=True)
    child.start()
    try:
        if not ready.wait(60):
            raise SystemExit("the servers did not start within 60 s")
        for run in (keep_alive, new_connections):  # warm up each server
            for port in ports:
                run(port, 50)
        print(report(measure(args.requests, args.rounds, list(ports))))
    finally:
        child.terminate()
        child.join()


if __name__ == "__main__":
    main()
