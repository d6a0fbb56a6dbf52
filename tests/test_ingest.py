"""Nights pushed by phone apps: POST /api/v1/ingest/{source} with a token, on both databases.

The requests are shaped as Health Auto Export's REST automation sends them: a JSON body of
its `sleep_analysis` metric (summarised, one entry a night), Content-Type application/json,
its automation-* and session-id headers, and the token in the Authorization header the
person adds in the app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mgsleep.store.db import session_scope
from mgsleep.store.repo import find_account, get_nights
from mgsleep.web.app import create_app
from mgsleep.web.settings import Settings
from tests.apps import on_store
from tests.test_api import API, Person, problems

PUSHES_PER_HOUR = 3
MAX_INGEST_KB = 16


def sleep_entry(day: int, *, asleep_hr: float = 7.0) -> dict[str, Any]:
    """One night of Health Auto Export's summarised sleep_analysis, waking on March `day`."""
    return {
        "date": f"2026-03-{day:02d} 00:00:00 +0100",
        "inBedStart": f"2026-03-{day - 1:02d} 22:50:00 +0100",
        "inBedEnd": f"2026-03-{day:02d} 06:55:00 +0100",
        "sleepStart": f"2026-03-{day - 1:02d} 23:05:00 +0100",
        "sleepEnd": f"2026-03-{day:02d} 06:45:00 +0100",
        "asleep": asleep_hr,
        "totalSleep": asleep_hr,
        "core": 4.1,
        "deep": 1.2,
        "rem": 1.7,
        "awake": 0.5,
        "inBed": 8.08,
        "source": "Apple Watch",
    }


def push_body(*days: int, asleep_hr: float = 7.0) -> bytes:
    document = {
        "data": {
            "metrics": [
                {
                    "name": "sleep_analysis",
                    "units": "hr",
                    "data": [sleep_entry(day, asleep_hr=asleep_hr) for day in days],
                },
                {"name": "step_count", "units": "count", "data": [{"date": "x", "qty": 1}]},
            ]
        }
    }
    return json.dumps(document).encode()


def app_headers(token: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "automation-name": "mgsleep",
        "automation-id": "9C1D6E0A-2B3F-4C5D-8E9F-0A1B2C3D4E5F",
        "automation-aggregation": "Days",
        "automation-period": "Since Last Sync",
        "session-id": "5E3A1C2B-7D4F-4A6B-9C8D-1E2F3A4B5C6D",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@pytest.fixture(scope="module")
def ingest_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One app with small ingest limits for the module (its routes are built once)."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('ingest')}/unused.db",
        secret_key="x" * 40,
        ingest_pushes_per_hour=PUSHES_PER_HOUR,
        max_ingest_kb=MAX_INGEST_KB,
    )
    application = create_app(settings)
    with TestClient(application):
        yield application


@pytest.fixture
def app(ingest_app: FastAPI, store_url: str) -> Iterator[FastAPI]:
    with on_store(ingest_app, store_url) as application:
        yield application


def signed_up(app: FastAPI, name: str) -> Person:
    person = Person(app)
    assert person.signup(name).status_code == 201
    return person


def page_token(person: Person) -> str:
    """Makes a token on the account page, as a person does, and reads it off the answer."""
    page = person.client.get("/account").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    made = person.client.post(
        "/account/tokens", data={"name": "iPhone Health Auto Export", "csrf_token": csrf[1]}
    )
    assert made.status_code == 200
    token = re.search(r'<code id="new-token-value">([^<]+)</code>', made.text)
    assert token is not None
    return token[1]


def push(app: FastAPI, token: str | None, body: bytes, source: str = "health_auto_export") -> Any:
    # A client of its own, without cookies: the app on the phone has no session.
    return TestClient(app).post(f"{API}/ingest/{source}", content=body, headers=app_headers(token))


def nights_of(app: FastAPI, username: str) -> list[Any]:
    with session_scope(app.state.engine, write=False) as session:
        account = find_account(session, username)
        assert account is not None
        return get_nights(session, account.id)


def test_a_good_push_imports_its_nights_with_the_file_summary(app: FastAPI) -> None:
    anna = signed_up(app, "anna")
    answer = push(app, page_token(anna), push_body(2, 3))
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["added"], summary["nights_found"], summary["rejected"]) == (2, 2, [])
    assert summary["zone_rule"] == "file"
    stored = nights_of(app, "anna")
    assert [(n.date.isoformat(), n.source) for n in stored] == [
        ("2026-03-02", "health_auto_export"),
        ("2026-03-03", "health_auto_export"),
    ]
    assert anna.get("/nights").json()[0]["source"] == "health_auto_export"


def test_the_same_push_twice_stores_each_night_once(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))
    assert push(app, token, push_body(2, 3)).json()["added"] == 2
    again = push(app, token, push_body(2, 3)).json()
    assert (again["added"], again["already_present"], again["replaced"]) == (0, 2, 0)
    assert len(nights_of(app, "anna")) == 2


def test_a_later_push_of_a_completed_night_replaces_the_apps_earlier_one(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))
    assert push(app, token, push_body(2, asleep_hr=5.0)).json()["added"] == 1
    later = push(app, token, push_body(2, asleep_hr=7.0)).json()
    assert (later["replaced"], later["replaced_dates"]) == (1, ["2026-03-02"])
    assert len(nights_of(app, "anna")) == 1


def test_a_revoked_token_is_refused_and_nothing_is_stored(app: FastAPI) -> None:
    anna = signed_up(app, "anna")
    token = page_token(anna)
    page = anna.client.get("/account").text
    revoke = re.search(r'action="(/account/tokens/\d+/revoke)"', page)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert revoke is not None
    assert csrf is not None
    gone = anna.client.post(revoke[1], data={"csrf_token": csrf[1]}, follow_redirects=False)
    assert gone.status_code == 303
    assert "iPhone Health Auto Export" not in anna.client.get("/account").text
    answer = push(app, token, push_body(2))
    assert problems(answer, 401) == {"authorization": "ingest_token_revoked"}
    assert answer.headers["www-authenticate"] == "Bearer"
    assert nights_of(app, "anna") == []


@pytest.mark.parametrize("token", [None, "mgs_not-a-token-anyone-was-given", ""])
def test_a_missing_or_wrong_token_is_refused(app: FastAPI, token: str | None) -> None:
    page_token(signed_up(app, "anna"))
    answer = push(app, token, push_body(2))
    expected = "ingest_token_wrong" if token else "ingest_token_missing"
    assert problems(answer, 401) == {"authorization": expected}
    assert nights_of(app, "anna") == []


def test_the_session_cookie_is_not_a_token(app: FastAPI) -> None:
    anna = signed_up(app, "anna")
    answer = anna.post("/ingest/health_auto_export", content=push_body(2))
    assert problems(answer, 401) == {"authorization": "ingest_token_missing"}


def test_a_push_larger_than_the_limit_is_refused(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))
    days = list(range(2, 29)) * 3  # about 50 kB of entries, more than the 16 kB limit
    answer = push(app, token, push_body(*days))
    assert problems(answer, 413) == {"body": "too_large"}
    assert nights_of(app, "anna") == []


def test_a_body_larger_than_the_limit_without_its_length_is_refused(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))

    def chunks() -> Iterator[bytes]:
        body = push_body(*range(2, 29), *range(2, 29), *range(2, 29))
        yield from (body[i : i + 4096] for i in range(0, len(body), 4096))

    answer = TestClient(app).post(
        f"{API}/ingest/health_auto_export", content=chunks(), headers=app_headers(token)
    )
    assert problems(answer, 413) == {"body": "too_large"}


def test_too_many_pushes_in_an_hour_are_refused_until_the_hour_is_over(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))
    for _ in range(PUSHES_PER_HOUR):
        assert push(app, token, push_body(2)).status_code == 200
    answer = push(app, token, push_body(3))
    assert problems(answer, 429) == {"authorization": "too_many_pushes"}
    assert 0 < int(answer.headers["retry-after"]) <= 3600
    assert [n.date.day for n in nights_of(app, "anna")] == [2]


def test_a_failed_push_still_counts_against_the_hour(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))
    for _ in range(PUSHES_PER_HOUR):
        assert push(app, token, b"not json").status_code == 422
    assert push(app, token, push_body(2)).status_code == 429


def test_each_token_has_its_own_hour(app: FastAPI) -> None:
    anna = signed_up(app, "anna")
    first, second = page_token(anna), page_token(anna)
    for _ in range(PUSHES_PER_HOUR):
        push(app, first, push_body(2))
    assert push(app, first, push_body(2)).status_code == 429
    assert push(app, second, push_body(2)).status_code == 200


def test_a_push_reaches_only_its_tokens_owner(app: FastAPI) -> None:
    anna, bob = signed_up(app, "anna"), signed_up(app, "bob")
    anna_token = page_token(anna)
    page_token(bob)
    assert push(app, anna_token, push_body(2, 3)).json()["added"] == 2
    assert nights_of(app, "bob") == []
    assert bob.get("/nights").json() == []
    assert len(anna.get("/nights").json()) == 2


def test_nobody_can_revoke_another_persons_token(app: FastAPI) -> None:
    anna, bob = signed_up(app, "anna"), signed_up(app, "bob")
    anna_token = page_token(anna)
    revoke = re.search(r'action="(/account/tokens/\d+/revoke)"', anna.client.get("/account").text)
    assert revoke is not None
    page = bob.client.get("/account").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    refused = bob.client.post(revoke[1], data={"csrf_token": csrf[1]}, follow_redirects=False)
    assert refused.status_code == 404
    assert push(app, anna_token, push_body(2)).status_code == 200


def test_a_bad_push_imports_nothing_and_says_why_by_code(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))
    assert set(problems(push(app, token, b"not json")).values()) == {"refused"}
    unknown = push(app, token, push_body(2), source="no_such_app")
    assert problems(unknown) == {"source": "unknown_name"}
    assert nights_of(app, "anna") == []


def test_an_android_export_is_pushed_as_its_reader_reads_it(app: FastAPI) -> None:
    token = page_token(signed_up(app, "anna"))
    export = (
        'Id,Tz,From,To,Sched,Hours,Rating,Comment,Framerate,Snore,Noise,Cycles,DeepSleep,LenAdjust,Geo,"22:10"\n'
        '"1772400000000","Europe/Amsterdam","01. 03. 2026 22:10","02. 03. 2026 6:40",'
        '"02. 03. 2026 6:45","8.5","4.0","","10000","-1","-1.0","5","0.4","0","",""\n'
    )
    answer = push(app, token, export.encode(), source="sleep_as_android")
    assert answer.status_code == 200, answer.text
    assert [n.source for n in nights_of(app, "anna")] == ["sleep_as_android"]


def test_the_account_page_shows_a_token_once_and_stores_only_its_hash(app: FastAPI) -> None:
    anna = signed_up(app, "anna")
    token = page_token(anna)
    later = anna.client.get("/account").text
    assert token not in later
    assert "iPhone Health Auto Export" in later
    with session_scope(app.state.engine, write=False) as session:
        from sqlalchemy import text

        stored = [row[0] for row in session.execute(text("SELECT token_hash FROM ingest_tokens"))]
    assert token not in stored
    assert len(stored[0]) == 64


def test_a_token_needs_a_name(app: FastAPI) -> None:
    anna = signed_up(app, "anna")
    page = anna.client.get("/account?lang=en").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    answer = anna.client.post("/account/tokens", data={"name": "  ", "csrf_token": csrf[1]})
    assert answer.status_code == 422
    assert "Give the token a name" in answer.text
    assert 'id="new-token-value"' not in answer.text


def test_deleting_the_account_deletes_its_tokens(app: FastAPI) -> None:
    anna = signed_up(app, "anna")
    token = page_token(anna)
    page = anna.client.get("/account").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    anna.client.post("/account/delete", data={"confirm": "yes", "csrf_token": csrf[1]})
    assert problems(push(app, token, push_body(2)), 401) == {"authorization": "ingest_token_wrong"}
