from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from mgsleep.evidence import Evidence, load_evidence
from mgsleep.security import use_hasher

# Tests hash hundreds of passwords; argon2's real cost protects people, not test accounts.
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def ev() -> Evidence:
    return load_evidence()


# ---- a real PostgreSQL server, started once per test session ------------------------------

REQUIRE_POSTGRES_ENV = "MGSLEEP_REQUIRE_POSTGRES"
POSTGRES_OS_USER = "postgres"
POSTGRES_START_TIMEOUT_S = 30
# Durability is irrelevant for a throwaway server; without fsync it starts and writes faster.
POSTGRES_FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]  # the newest major version
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"{name} not found under /usr/lib/postgresql/*/bin or on PATH")
    return on_path


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", POSTGRES_OS_USER, "--", *command]
    return command


def _run(command: list[str], folder: Path) -> None:
    # Run from the server's folder: the postgres user may not be allowed into ours.
    done = subprocess.run(
        _as_postgres_user(command), cwd=folder, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout}")


def _free_port() -> int:
    # The server listens on a Unix socket only; the port just names the socket file, but a
    # number no local server uses avoids any confusion with one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _private_folder() -> Path:
    # Not under pytest's tmp_path: its parents are private to root, so the postgres user
    # could not reach them.
    folder = Path(tempfile.mkdtemp(prefix="mgsleep-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, user=POSTGRES_OS_USER, group=POSTGRES_OS_USER)
    return folder


def _start_postgres(folder: Path, port: int) -> None:
    data_dir = folder / "data"
    initdb = [_postgres_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust"]
    _run([*initdb, "-E", "UTF8", "--locale=C", "--no-sync"], folder)
    server_options = f"-c listen_addresses='' -k {folder} -p {port} {POSTGRES_FAST_OPTIONS}"
    pg_ctl = [_postgres_bin("pg_ctl"), "-D", str(data_dir), "-l", str(folder / "server.log")]
    _run(
        [*pg_ctl, "-w", "-t", str(POSTGRES_START_TIMEOUT_S), "-o", server_options, "start"], folder
    )


def _stop_postgres(folder: Path) -> None:
    _run([_postgres_bin("pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"], folder)


def _server_log_tail(folder: Path) -> str:
    log = folder / "server.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def _execute_autocommit(url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


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
    folder = _private_folder()
    port = _free_port()
    try:
        _start_postgres(folder, port)
    except (OSError, RuntimeError) as error:
        reason = f"{error}\n{_server_log_tail(folder)}".strip()
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(request, reason)
    url = f"postgresql+psycopg://postgres@/mgsleep?host={folder}&port={port}"
    try:
        _execute_autocommit(str(make_url(url).set(database="postgres")), "CREATE DATABASE mgsleep")
        yield url
    finally:
        _stop_postgres(folder)
        shutil.rmtree(folder, ignore_errors=True)


_database_numbers = itertools.count(1)


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """A new, empty database for one test, so no test sees another's rows or schema."""
    name = f"test_{next(_database_numbers)}"
    _execute_autocommit(postgres_url, f"CREATE DATABASE {name}")
    yield str(make_url(postgres_url).set(database=name))
    # FORCE: an engine the test forgot to dispose must not keep the database alive.
    _execute_autocommit(postgres_url, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend; storage tests run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mgsleep.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url
