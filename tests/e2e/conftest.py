"""A real server on loopback and a real headless Chromium (Debian's, not a downloaded one).

Every page a test looks at goes through `shot` (or `visit`, which calls it): a screenshot
under test-output/screenshots/ and the axe-core accessibility check, which fails the test on a
serious or critical violation.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from mgsleep import clock
from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from mgsleep.i18n import translations
from mgsleep.lang import Lang
from mgsleep.security import hash_password
from mgsleep.store.db import open_store
from mgsleep.web import deps
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
LOCALES = {"en": "en-GB", "nl": "nl-NL"}
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
AXE_RESULTS = OUTPUT / "axe"
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# What fails a test; "moderate" and "minor" findings are written to test-output/axe/ only.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
ZONE = ZoneInfo("Europe/Amsterdam")
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('web') / 'e2e.db'}"


@pytest.fixture(scope="session")
def server(engine_url: str) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    engine = open_store(engine_url)
    seed_demo(engine, hash_password(DEMO_PASSWORD))
    engine.dispose()
    settings = Settings(
        database_url=engine_url,
        secret_key="e2e-" + "x" * 40,
        base_url=base,
        login_attempts_per_15_min=50,
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


@dataclass
class SettableClock:
    """The server's clock, held still and moved by the test."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def set_day(self, day: date, hour: int = 12) -> None:
        """Noon (by default) in Amsterdam on `day`: the person's "today" is `day`."""
        self.moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE).astimezone(UTC)

    def advance(self, days: int) -> None:
        self.moment += timedelta(days=days)


@pytest.fixture
def server_clock(server: str, monkeypatch: pytest.MonkeyPatch) -> SettableClock:
    """A fixed clock for the server, which runs in this process (a thread of the test run).

    Every page's "today" comes from `deps.today_for`, which reads `deps.now`; that reads
    `clock.now`, as do sign-up, log-in and the session's idle time. Both names are set, so a
    session started at the fixed moment stays alive as the test moves the days on."""
    settable = SettableClock(datetime.now(UTC))
    monkeypatch.setattr(deps, "now", settable.now)
    monkeypatch.setattr(clock, "now", settable.now)
    return settable


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("MGSLEEP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing; the test command installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing: browser tests NOT run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# A step that has not happened in this time will not: fail fast rather than after 30 s.
ACTION_TIMEOUT_MS = 8000


def new_page(browser: Any, viewport_name: str, lang: str | None = None, **options: Any) -> Any:
    """A page in a context of its own (cookies, viewport, the browser's language)."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport_name], locale=LOCALES.get(lang or "en", "en-GB"), **options
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.viewport_name = viewport_name
    # Fail the test on any request that leaves this machine.
    page.on("request", lambda r: _only_local(r.url))
    return page


@pytest.fixture(params=sorted(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    page = new_page(browser, request.param)
    yield page
    page.context.close()


def _only_local(url: str) -> None:
    assert url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")), url


# ---- accessibility --------------------------------------------------------------------------


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


# axe's own summary of each violation, small enough to print: rule, impact, where.
_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")),
  }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now. The script goes in through the
    DevTools protocol (not a <script> tag), so the page's own security policy, which allows
    no inline script, stays as it is served."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    found: list[dict[str, Any]] = page.evaluate(_RUN_AXE)
    return found


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def describe(name: str, url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{name} ({url}):"]
    for v in violations:
        lines.append(f"  {v['id']} [{v['impact']}] {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"][:8])
    return "\n".join(lines)


def accessibility(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe, keep its findings under test-output/axe/, and return the blocking ones."""
    violations = axe_violations(page)
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"url": page.url, "viewport": page.viewport_name, "violations": violations}
    (AXE_RESULTS / f"{name}-{page.viewport_name}.json").write_text(json.dumps(record, indent=1))
    return blocking(violations)


def shot(page: Any, name: str, *, check: bool = True) -> None:
    """A full-page screenshot, and the accessibility check of the page (which fails the
    test on a serious or critical violation)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.viewport_name}.png"), full_page=True)
    if check:
        found = accessibility(page, name)
        assert not found, describe(name, page.url, found)


def visit(page: Any, url: str, name: str) -> Any:
    response = page.goto(url)
    shot(page, name)
    return response


# ---- words and people -----------------------------------------------------------------------


def t(lang: Lang, msgid: str) -> str:
    """A sentence as the app shows it in `lang`: the same catalog lookup the pages make, so
    a test names a button by its msgid in either language."""
    return str(translations(lang).gettext(msgid))


_numbers = iter(range(1, 1_000_000))


def sign_up(page: Any, server: str, lang: Lang, prefix: str = "user") -> str:
    name = f"{prefix}{next(_numbers)}-{page.viewport_name}-{lang}"
    page.goto(f"{server}/signup?lang={lang}")
    page.get_by_label(t(lang, "User name")).fill(name)
    page.get_by_label(t(lang, "Password")).fill(PASSWORD)
    page.get_by_role("button", name=t(lang, "Sign up")).click()
    page.wait_for_url(f"{server}/profile**")
    return name


def log_in_as_demo(page: Any, server: str, lang: Lang) -> None:
    page.goto(f"{server}/login?lang={lang}")
    page.get_by_label(t(lang, "User name")).fill(DEMO_USERNAME)
    page.get_by_label(t(lang, "Password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t(lang, "Log in")).click()
    page.wait_for_url(f"{server}/")
