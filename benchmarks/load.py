"""A realistic mix under load: people log in, view their plan, add a night, list their nights
and look at their trial, all at once, for a bounded time on loopback. Prints one JSON line.

Runs against SQLite (one app process), PostgreSQL (one process) and PostgreSQL with two app
processes (the README's hosted set-up), at 8 and 32 concurrent people each. Beside each run,
a static file of the same server is measured in the same run as the baseline. Counts errors
(any 5xx, or an answer the mix did not expect) and lost writes (a night answered 201 that
is not in the database afterwards).

    python -m benchmarks.load [--seconds 15] [--clients 8 32]
                              [--backends sqlite postgres postgres-2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from tests import pgserver
from tests.servers import serve

from mgsleep.demo import DEMO_PROFILE, demo_protocol
from mgsleep.security import hash_password
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import create_account, find_account, get_nights, save_profile, start_trial

PASSWORD = "correct horse battery"
FIRST_NIGHT = date(2020, 1, 1)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    created: int = 0


def _seed(url: str, people: int) -> None:
    engine = open_store(url)
    password_hash = hash_password(PASSWORD)  # the real argon2 cost: logging in is measured
    with session_scope(engine) as session:
        for number in range(people):
            account = create_account(session, f"sleeper{number}", password_hash)
            save_profile(session, account.id, DEMO_PROFILE)
            start_trial(session, account.id, demo_protocol(date.today()))
    engine.dispose()


def _stored_nights(url: str, people: int) -> int:
    engine = open_store(url)
    total = 0
    with session_scope(engine, write=False) as session:
        for number in range(people):
            account = find_account(session, f"sleeper{number}")
            assert account is not None
            total += len(get_nights(session, account.id))
    engine.dispose()
    return total


async def _timed(
    tally: Tally, name: str, request: Any, expected: set[int]
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response: httpx.Response = await request
    except httpx.HTTPError:
        tally.errors[name] += 1
        return None
    tally.latencies[name].append(time.perf_counter() - started)
    if response.status_code not in expected:
        tally.errors[f"{name} {response.status_code}"] += 1
    return response


async def _person(base: str, number: int, until: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        login = client.post(
            "/api/v1/auth/login", json={"username": f"sleeper{number}", "password": PASSWORD}
        )
        answer = await _timed(tally, "log in", login, {200})
        if answer is None or answer.status_code != 200:
            return
        token = answer.json()["csrf_token"]
        day = 0
        while time.monotonic() < until:
            await _timed(tally, "plan page", client.get("/plan"), {200})
            night = {
                "date": (FIRST_NIGHT + timedelta(days=day)).isoformat(),
                "in_bed": "22:30",
                "lights_out": "22:45",
                "sleep_latency_min": 20 + day % 15,
                "final_wake": "06:30",
                "out_of_bed": "07:00",
            }
            day += 1
            added = await _timed(
                tally,
                "add night",
                client.post("/api/v1/nights", json=night, headers={"X-CSRF-Token": token}),
                {201},
            )
            if added is not None and added.status_code == 201:
                tally.created += 1
            await _timed(tally, "list nights", client.get("/api/v1/nights"), {200})
            await _timed(tally, "trial page", client.get("/trial"), {200})


async def _static(bases: list[str], until: float, clients: int, tally: Tally) -> None:
    async def worker(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while time.monotonic() < until:
                await _timed(tally, "static file", client.get("/static/style.css"), {200})

    await asyncio.gather(*(worker(bases[n % len(bases)]) for n in range(clients)))


def _summary(tally: Tally, seconds: float) -> dict[str, Any]:
    operations = {}
    for name, values in sorted(tally.latencies.items()):
        values.sort()
        operations[name] = {
            "requests": len(values),
            "requests_per_s": round(len(values) / seconds, 1),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p99_ms": round(values[int(0.99 * (len(values) - 1))] * 1000, 1),
        }
    total = sum(len(v) for k, v in tally.latencies.items() if k != "log in")
    return {
        "mix_requests_per_s": round(total / seconds, 1),
        "operations": operations,
        "errors": dict(tally.errors),
    }


async def _one_run(bases: list[str], url: str, clients: int, seconds: float) -> dict[str, Any]:
    # The baseline first, alone, on the same servers: what the machine serves at all.
    static = Tally()
    await _static(bases, time.monotonic() + min(5.0, seconds), clients, static)
    static_seconds = min(5.0, seconds)
    mix = Tally()
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(_person(bases[n % len(bases)], n, until, mix) for n in range(clients)))
    elapsed = time.monotonic() - started
    stored = _stored_nights(url, clients)
    result = _summary(mix, elapsed)
    baseline = _summary(static, static_seconds)["operations"]["static file"]
    result |= {
        "baseline_static_file": baseline,
        "mix_vs_static_ratio": round(result["mix_requests_per_s"] / baseline["requests_per_s"], 3),
        "nights_answered_201": mix.created,
        "nights_stored": stored,
        "lost_writes": mix.created - stored,
    }
    return result


def _backend(name: str, clients: int, seconds: float, folder: Path) -> dict[str, Any]:
    servers = []
    pg_folder = None
    try:
        if name == "sqlite":
            url = f"sqlite:///{folder / f'load-{clients}.db'}"
            processes = 1
        else:
            pg_folder = pgserver.private_folder()
            port = pgserver.free_port()
            pgserver.start_postgres(pg_folder, port)
            url = pgserver.unix_socket_url(pg_folder, port)
            admin = pgserver.unix_socket_url(pg_folder, port, "postgres")
            pgserver.execute_autocommit(admin, "CREATE DATABASE mgsleep")
            processes = 2 if name.endswith("-2") else 1
        _seed(url, clients)
        env = {"MGSLEEP_DATABASE_URL": url, "MGSLEEP_SECRET_KEY": "load-" + "x" * 40}
        servers = [serve("mgsleep.web.app:create_app", env) for _ in range(processes)]
        bases = [base for base, _process in servers]
        result = asyncio.run(_one_run(bases, url, clients, seconds))
        return {"backend": name, "app_processes": processes, "clients": clients, **result}
    finally:
        for _base, process in servers:
            process.terminate()
            process.wait(timeout=10)
        if pg_folder is not None:
            pgserver.stop_postgres(pg_folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres", "postgres-2"])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    runs = [
        _backend(backend, clients, args.seconds, folder)
        for backend in args.backends
        for clients in args.clients
    ]
    print(
        json.dumps(
            {
                "benchmark": "load",
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "seconds": args.seconds,
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
