"""Requests per second and p50/p99 latency of the plan page, the diary API and the trial page,
next to a bare FastAPI endpoint measured in the same run on the same machine, with a compiled
load generator (wrk: a Python client caps the bare endpoint at a few hundred requests a second
and so flatters every ratio). Prints one JSON line.

Every request goes to 127.0.0.1. wrk comes from Debian (`apt-get install wrk`); the benchmark
installs it when it is missing and it may.

    python -m benchmarks.web [--seconds 10] [--connections 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from tests.servers import page_login, serve

from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from mgsleep.security import hash_password
from mgsleep.store.db import open_store

PAGES = {"plan_page": "/plan", "diary_api": "/api/v1/nights", "trial_page": "/trial"}
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def measure(url: str, args: argparse.Namespace, cookie: str | None = None) -> dict[str, float]:
    command = [
        wrk_binary(),
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={args.seconds}s",
        "--latency",
    ]
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if rate is None or p50 is None or p99 is None:
        raise RuntimeError(f"wrk said:\n{output}")
    return {
        "requests_per_s": round(float(rate.group(1)), 1),
        "p50_ms": round(_milliseconds(p50.group(1)), 2),
        "p99_ms": round(_milliseconds(p99.group(1)), 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _session_cookie(base: str) -> str:
    client = page_login(base, DEMO_USERNAME, DEMO_PASSWORD)
    try:
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    finally:
        client.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = open_store(url)
    seed_demo(engine, hash_password(DEMO_PASSWORD), date.today())
    engine.dispose()
    env = {"MGSLEEP_DATABASE_URL": url, "MGSLEEP_SECRET_KEY": "bench-" + "x" * 40}
    app_base, app_server = serve("mgsleep.web.app:create_app", env)
    bare_base, bare_server = serve("benchmarks.web:bare_app", {})
    try:
        cookie = _session_cookie(app_base)
        measure(bare_base + "/ping", argparse.Namespace(**{**vars(args), "seconds": 2}))
        baseline = measure(bare_base + "/ping", args)
        results = {}
        for name, path in PAGES.items():
            measure(app_base + path, argparse.Namespace(**{**vars(args), "seconds": 2}), cookie)
            results[name] = measure(app_base + path, args, cookie)
    finally:
        for server in (app_server, bare_server):
            server.terminate()
            server.wait(timeout=10)
    rate = baseline["requests_per_s"]
    return {
        "benchmark": "web",
        "load_generator": "wrk",
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": args.seconds,
        "connections": args.connections,
        "bare_fastapi": baseline,
        **results,
        **{
            f"{name}_rps_ratio": round(r["requests_per_s"] / rate, 3) for name, r in results.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    print(json.dumps(run(parser.parse_args())))


if __name__ == "__main__":
    main()
