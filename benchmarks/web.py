"""Requests per second and p50/p99 latency of the plan page and the diary API, next to a bare
FastAPI endpoint measured in the same run on the same machine. Prints one JSON line.

Every request goes to 127.0.0.1; the loops are bounded by a request count.

    python -m benchmarks.web [--requests 2000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from tests.servers import serve

from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from mgsleep.security import hash_password
from mgsleep.store.db import open_store

ROOT = Path(__file__).resolve().parent.parent


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def _measure(
    client: httpx.AsyncClient, url: str, total: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(total):
        queue.put_nowait(number)

    async def worker() -> None:
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            response = await client.get(url)
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_s": round(total / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 2),
    }


async def _logged_in(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = await client.post(
        "/login",
        data={
            "username": DEMO_USERNAME,
            "password": DEMO_PASSWORD,
            "next": "/",
            "csrf_token": token.group(1),
        },
    )
    assert response.status_code in (200, 303), response.status_code
    return client


async def run(total: int, concurrency: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = open_store(url)
    seed_demo(engine, hash_password(DEMO_PASSWORD), date.today())
    engine.dispose()
    env = {"MGSLEEP_DATABASE_URL": url, "MGSLEEP_SECRET_KEY": "bench-" + "x" * 40}
    app_base, app_server = serve("mgsleep.web.app:create_app", env)
    bare_base, bare_server = serve("benchmarks.web:bare_app", {})
    async with httpx.AsyncClient(base_url=bare_base, timeout=30) as bare:
        await _measure(bare, "/ping", min(200, total), concurrency)  # warm-up
        baseline = await _measure(bare, "/ping", total, concurrency)
    client = await _logged_in(app_base)
    try:
        await _measure(client, "/plan", min(50, total), concurrency)
        plan = await _measure(client, "/plan", total, concurrency)
        diary = await _measure(client, "/api/v1/nights", total, concurrency)
    finally:
        await client.aclose()
    for server in (app_server, bare_server):
        server.terminate()
        server.wait(timeout=10)
    return {
        "benchmark": "web",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "requests": total,
        "concurrency": concurrency,
        "bare_fastapi": baseline,
        "plan_page": plan,
        "diary_api": diary,
        "plan_page_rps_ratio": round(plan["requests_per_s"] / baseline["requests_per_s"], 3),
        "diary_api_rps_ratio": round(diary["requests_per_s"] / baseline["requests_per_s"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.requests, args.concurrency))))


if __name__ == "__main__":
    main()
