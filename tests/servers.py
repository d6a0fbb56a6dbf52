"""An app server in its own process on a free loopback port, for tests and benchmarks: the
client then does not share the server's interpreter (or its GIL)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(
    target: str, env: dict[str, str], *, log: IO[str] | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """`uvicorn --factory target` with `env` on top of ours; waits until it answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--no-proxy-headers",
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            httpx.get(base + "/", timeout=1)
            return base, process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def page_login(base: str, username: str, password: str) -> httpx.Client:
    """A client logged in through the log-in page, as a browser is (the session cookie set)."""
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("the log-in page has no CSRF token")
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": "/",
            "csrf_token": token.group(1),
        },
    )
    if answer.status_code not in (200, 303):
        raise RuntimeError(f"log-in failed: {answer.status_code}")
    return client
