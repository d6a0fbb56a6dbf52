"""A real server on loopback and a real headless Chromium (Debian's, not a downloaded one)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn

from mgsleep.demo import DEMO_PASSWORD, seed_demo
from mgsleep.security import hash_password
from mgsleep.store.db import open_store
from mgsleep.web.app import create_app
from mgsleep.web.settings import Settings

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's hosts at every start; this machine has no
# network beyond loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'e2e.db'}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    engine = open_store(url)
    seed_demo(engine, hash_password(DEMO_PASSWORD), date.today())
    engine.dispose()
    settings = Settings(
        database_url=url, secret_key="e2e-" + "x" * 40, base_url=base, login_attempts_per_15_min=50
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uvicorn_server.started, "the test server did not start"
    yield base
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("MGSLEEP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing; the test command installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing: browser tests NOT run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: object) -> Iterator[object]:
    viewport = VIEWPORTS[request.param]
    context = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    page = context.new_page()
    page.viewport_name = request.param
    # Fail the test on any request that leaves this machine.
    page.on("request", lambda r: _only_local(r.url))
    yield page
    context.close()


def _only_local(url: str) -> None:
    assert url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")), url


def shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.viewport_name}.png"), full_page=True)  # type: ignore[attr-defined]
