"""Many people at once against a real server process, on SQLite and on PostgreSQL: every lost
race is the right answer (409, or a wait), never a 500 or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from mgsleep.security import hash_password
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import create_account, find_account, get_nights, local_user_id
from tests.servers import serve

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse"
NIGHT: dict[str, Any] = {
    "date": "2026-01-15",
    "in_bed": "22:30",
    "lights_out": "22:45",
    "sleep_latency_min": 20,
    "final_wake": "06:30",
    "out_of_bed": "07:00",
}
PEOPLE = 8

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    store = open_store(database_url)
    # Hashed here with the tests' cheap parameters; the server verifies with what the hash
    # says, so eight log-ins at once cost milliseconds, not half a gigabyte.
    with session_scope(store) as session:
        for number in range(PEOPLE):
            create_account(session, f"person{number}", hash_password(PASSWORD))
    yield store
    store.dispose()


@pytest.fixture
def server(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[str]:
    env = {"MGSLEEP_DATABASE_URL": database_url, "MGSLEEP_SECRET_KEY": "s" * 40}
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        base, process = serve("mgsleep.web.app:create_app", env, log=log)
        try:
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)
    text = log_path.read_text()
    assert "Traceback" not in text, text


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    """Every client a test opens, closed when it ends (an open socket is a leak)."""
    opened: list[httpx.Client] = []
    yield opened
    for client in opened:
        client.close()


def _log_in(base: str, number: int, opened: list[httpx.Client]) -> tuple[httpx.Client, str, int]:
    client = httpx.Client(base_url=base, timeout=60)
    opened.append(client)
    answer = client.post(
        "/api/v1/auth/login", json={"username": f"person{number}", "password": PASSWORD}
    )
    token = answer.json().get("csrf_token", "") if answer.status_code == 200 else ""
    return client, token, answer.status_code


def test_people_logging_in_at_once_all_get_in(server: str, clients: list[httpx.Client]) -> None:
    with ThreadPoolExecutor(PEOPLE) as pool:
        results = list(pool.map(lambda n: _log_in(server, n, clients), range(PEOPLE)))
    assert [status for _client, _token, status in results] == [200] * PEOPLE


def test_racing_posts_of_one_night_store_it_once(
    server: str, engine: Engine, clients: list[httpx.Client]
) -> None:
    client, token, status = _log_in(server, 0, clients)
    assert status == 200

    def post(_: int) -> int:
        answer = client.post("/api/v1/nights", json=NIGHT, headers={"X-CSRF-Token": token})
        return answer.status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(post, range(20)))
    assert sorted(codes) == [201] + [409] * 19, codes
    with session_scope(engine, write=False) as session:
        account = find_account(session, "person0")
        assert account is not None
        assert len(get_nights(session, account.id)) == 1


def test_two_imports_at_once_store_each_night_once(
    server: str, engine: Engine, clients: list[httpx.Client]
) -> None:
    text = (ROOT / "examples" / "diary-template.csv").read_bytes()
    client, token, _status = _log_in(server, 1, clients)

    def upload(_: int) -> int:
        answer = client.post(
            "/api/v1/nights/import",
            files={"file": ("diary.csv", text, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        return answer.status_code

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(upload, range(4)))
    assert set(codes) <= {200, 409}, codes
    assert 200 in codes
    with session_scope(engine, write=False) as session:
        account = find_account(session, "person1")
        assert account is not None
        assert len(get_nights(session, account.id)) == 2


def test_people_writing_their_diaries_at_once_lose_nothing(
    server: str, engine: Engine, clients: list[httpx.Client]
) -> None:
    logged_in = [_log_in(server, n, clients) for n in range(PEOPLE)]

    def write_week(person: int) -> list[int]:
        client, token, _ = logged_in[person]
        codes = []
        for day in range(10, 17):
            night = {**NIGHT, "date": f"2026-01-{day}"}
            codes.append(
                client.post(
                    "/api/v1/nights", json=night, headers={"X-CSRF-Token": token}
                ).status_code
            )
            codes.append(client.get("/api/v1/nights").status_code)
        return codes

    with ThreadPoolExecutor(PEOPLE) as pool:
        codes = [c for batch in pool.map(write_week, range(PEOPLE)) for c in batch]
    assert set(codes) <= {200, 201}, sorted(set(codes))
    with session_scope(engine, write=False) as session:
        for number in range(PEOPLE):
            account = find_account(session, f"person{number}")
            assert account is not None
            assert len(get_nights(session, account.id)) == 7


def test_two_command_line_imports_at_once_both_finish(database_url: str, engine: Engine) -> None:
    env = {**os.environ, "MGSLEEP_DATABASE_URL": database_url}
    template = str(ROOT / "examples" / "diary-template.csv")
    command = [sys.executable, "-m", "mgsleep", "import", "csv", template]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert b"Traceback" not in err, err.decode()
        assert process.returncode == 0, err.decode()
    with session_scope(engine, write=False) as session:
        assert len(get_nights(session, local_user_id(session))) == 2
