"""The trial report for people: how long its first and repeated views take, and what it does
to another person's save while it is being viewed. Prints one JSON line.

A server in its own process, with the demo person's six weeks. "first" views follow a change
to the diary (so nothing cached fits); "repeat" views do not. The save is another account's
POST /api/v1/nights, timed alone and then while four clients keep asking for reports that
cannot come from the cache (each for a different day).

    python -m benchmarks.report_page [--views 20] [--saves 60]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from tests.servers import page_login, serve

from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from mgsleep.security import hash_password
from mgsleep.store.db import open_store

PASSWORD = "a-long-password"
VIEWERS = 4


def _log_in_page(base: str) -> httpx.Client:
    return page_login(base, DEMO_USERNAME, DEMO_PASSWORD)


def _api_person(base: str, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=60)
    answer = client.post("/api/v1/auth/signup", json={"username": name, "password": PASSWORD})
    return client, answer.json()["csrf_token"]


def _timed(call: Any) -> float:
    started = time.perf_counter()
    response = call()
    response.raise_for_status()
    return time.perf_counter() - started


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
    }


def _night(day: date) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "in_bed": "22:30",
        "lights_out": "22:45",
        "sleep_latency_min": 20,
        "final_wake": "06:30",
        "out_of_bed": "07:00",
    }


def run(views: int, saves: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = open_store(url)
    today = date.today()
    seed_demo(engine, hash_password(DEMO_PASSWORD), today)
    engine.dispose()
    env = {"MGSLEEP_DATABASE_URL": url, "MGSLEEP_SECRET_KEY": "bench-" + "x" * 40}
    base, server = serve("mgsleep.web.app:create_app", env)
    try:
        demo = _log_in_page(base)
        token = re.search(r'name="csrf_token" value="([^"]+)"', demo.get("/diary").text)
        assert token is not None
        first, repeat = [], []
        for number in range(views):
            # A change to the diary: the next view cannot come from the cache.
            day = today - timedelta(days=400 + number)
            demo.post(
                "/diary",
                data={**{k: str(v) for k, v in _night(day).items()}, "csrf_token": token.group(1)},
            )
            first.append(_timed(lambda: demo.get("/trial")))
            repeat.append(_timed(lambda: demo.get("/trial")))
        other, other_token = _api_person(base, "bea")
        headers = {"X-CSRF-Token": other_token}

        def save(number: int) -> float:
            day = date(2020, 1, 1) + timedelta(days=number)
            return _timed(
                lambda: other.post(
                    "/api/v1/nights", json=_night(day), headers=headers, params={"replace": True}
                )
            )

        alone = [save(n) for n in range(saves)]
        viewers = [_log_in_page(base) for _ in range(VIEWERS)]

        def while_others(path_for: Any, first: int) -> list[float]:
            """Saves timed while VIEWERS clients keep asking for `path_for(client, number)`."""
            stop = threading.Event()

            answered: list[int] = []

            def keep_asking(client: httpx.Client, offset: int) -> None:
                number = 0
                while not stop.is_set():
                    path, params = path_for(offset, number)
                    client.get(path, params=params).raise_for_status()
                    answered.append(1)
                    number += 1

            threads = [
                threading.Thread(target=keep_asking, args=(c, i)) for i, c in enumerate(viewers)
            ]
            for thread in threads:
                thread.start()
            time.sleep(1)
            try:
                timed = [save(first + n) for n in range(saves)]
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
            # The others really were asking all along (a client that failed would flatter).
            if not all(thread.is_alive() is False for thread in threads) or len(answered) < saves:
                raise RuntimeError(f"the other clients answered only {len(answered)} times")
            return timed

        def uncached_report(offset: int, number: int) -> tuple[str, dict[str, str]]:
            as_of = (today - timedelta(days=offset * 1000 + number)).isoformat()
            return "/api/v1/trial/report.html", {"as_of": as_of}

        def cheap_page(_offset: int, _number: int) -> tuple[str, dict[str, str]]:
            return "/api/v1/auth/me", {}

        during = while_others(uncached_report, saves)
        # The same four clients asking for the cheapest answer there is: what sharing one
        # process's CPU costs by itself, so the report's own share can be told apart.
        during_cheap = while_others(cheap_page, 2 * saves)
    finally:
        server.terminate()
        server.wait(timeout=10)
    alone_ms, during_ms, cheap_ms = _ms(alone), _ms(during), _ms(during_cheap)
    return {
        "benchmark": "report_page",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "first_view": _ms(first),
        "repeat_view": _ms(repeat),
        "save_alone": alone_ms,
        "save_while_reports_drawn": during_ms,
        "save_while_cheap_requests": cheap_ms,
        "save_slowdown_p50": round(during_ms["p50_ms"] / alone_ms["p50_ms"], 2),
        "save_slowdown_p50_cheap_baseline": round(cheap_ms["p50_ms"] / alone_ms["p50_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--saves", type=int, default=60)
    args = parser.parse_args()
    print(json.dumps(run(args.views, args.saves)))


if __name__ == "__main__":
    main()
