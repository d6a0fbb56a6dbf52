from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from mgsleep.evidence import Evidence, load_evidence
from mgsleep.security import use_hasher
from tests import pgserver as pg
from tests.apps import on_store

if TYPE_CHECKING:
    from fastapi import FastAPI

# Under the README's test command nothing may be skipped: a skip for a missing PostgreSQL,
# browser, catalog or library would hide what the suite exists to show.
NO_SKIPS_ENV = "MGSLEEP_NO_SKIPS"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get(NO_SKIPS_ENV) == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, and {NO_SKIPS_ENV}=1 allows no skip: {report.longrepr}"


# Results kept between runs go to a folder of the test run, never to the developer's own cache.
os.environ.setdefault(
    "MGSLEEP_CACHE_DIR", str(Path(__file__).resolve().parent.parent / "test-output" / "cache")
)

# Tests hash hundreds of passwords; argon2's real cost protects people, not test accounts.
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def ev() -> Evidence:
    return load_evidence()


# ---- a real PostgreSQL server, started once per test session ------------------------------

REQUIRE_POSTGRES_ENV = "MGSLEEP_REQUIRE_POSTGRES"


def _unavailable(request: pytest.FixtureRequest, reason: str) -> NoReturn:
    message = f"PostgreSQL tests NOT RUN: {reason}"
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
        pytest.fail(message, pytrace=False)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    terminal = request.config.pluginmanager.getplugin("terminalreporter")
    if capture is not None and terminal is not None:
        with capture.global_and_fixture_disabled():
            terminal.write_line("")
            terminal.write_line("!" * 78, red=True, bold=True)
            terminal.write_line(message, red=True, bold=True)
            terminal.write_line("!" * 78, red=True, bold=True)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a database on a private PostgreSQL server listening on a Unix socket only."""
    folder = pg.private_folder()
    port = pg.free_port()
    try:
        pg.start_postgres(folder, port)
    except (OSError, RuntimeError) as error:
        reason = f"{error}\n{pg.server_log_tail(folder)}".strip()
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(request, reason)
    url = pg.unix_socket_url(folder, port)
    try:
        pg.execute_autocommit(
            str(make_url(url).set(database="postgres")), "CREATE DATABASE mgsleep"
        )
        yield url
    finally:
        pg.stop_postgres(folder)
        shutil.rmtree(folder, ignore_errors=True)


_database_numbers = itertools.count(1)


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """A new, empty database for one test, so no test sees another's rows or schema."""
    name = f"test_{next(_database_numbers)}"
    pg.execute_autocommit(postgres_url, f"CREATE DATABASE {name}")
    yield str(make_url(postgres_url).set(database=name))
    # FORCE: an engine the test forgot to dispose must not keep the database alive.
    pg.execute_autocommit(postgres_url, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend; storage tests run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mgsleep.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


# ---- the web app, built once ----------------------------------------------------------------
# FastAPI works out each app's routes on its first request (about 0.1 s); tests that each made
# an app of their own paid that hundreds of times. They share one app with the default
# settings, each on a database of its own.


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    from fastapi.testclient import TestClient

    from mgsleep.web.app import create_app
    from mgsleep.web.settings import Settings

    folder = tmp_path_factory.mktemp("shared-app")
    application = create_app(
        Settings(database_url=f"sqlite:///{folder}/unused.db", secret_key="x" * 40)
    )
    with TestClient(application):  # the lifespan: later clients share its open store
        yield application


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest revision, migrated once (the migrations have
    tests of their own); a test's copy of it opens without running them again."""
    from sqlalchemy import text

    from mgsleep.store.db import open_store

    path = tmp_path_factory.mktemp("template") / "empty.db"
    engine = open_store(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture
def empty_sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """An empty SQLite database of this test's own, at the newest revision."""
    path = tmp_path / "x.db"
    shutil.copyfile(migrated_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
def web_app(shared_app: FastAPI, empty_sqlite_url: str) -> Iterator[FastAPI]:
    """The shared app on an empty database of this test's own, as a new app would be."""
    with on_store(shared_app, empty_sqlite_url) as application:
        yield application
