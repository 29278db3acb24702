"""Sounding under gunicorn on a benchmark's own database, for the HTTP benchmarks."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench._db import ADMIN_URL

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database: str, workers: int, **settings: str) -> Iterator[str]:
    """Serve Sounding (production settings, jobs in-process) on ``database`` with ``workers``
    sync workers until the block ends; yields the base URL once ``/healthz`` answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": ADMIN_URL.rsplit("/", 1)[0] + f"/{database}",
        "SECRET_KEYS": "bench-key",
        "SOUNDING_ENV": "production",
        "BASE_URL": f"http://127.0.0.1:{port}",
        **settings,
    }
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        _warm_up(port, connections=4 * workers)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def _warm_up(port: int, connections: int, requests: int = 50) -> None:
    """Enough concurrent requests that every worker has served some before anything is
    timed (a worker's first requests are slow)."""

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(requests):
            conn.request("GET", "/healthz")
            conn.getresponse().read()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_wrk(
    url: str, seconds: int, connections: int, headers: list[str], script: str | None
) -> str:
    """Load ``url`` with wrk (Lua ``script`` if any); its throughput and latency lines."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    if script:
        args += ["-s", lua.name]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    lines = [
        ln.strip()
        for ln in out.splitlines()
        if ln.strip().startswith(("Requests/sec", "50%", "99%", "Non-2xx"))
    ]
    return "  ".join(lines)
