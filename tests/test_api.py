"""The JSON API: every endpoint with good and bad input, CSRF, log-in limits, and isolation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from mgsleep import clock
from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_today, seed_demo
from mgsleep.plan import make_plan
from mgsleep.profile import Profile
from mgsleep.security import hash_password
from mgsleep.store.db import session_scope
from mgsleep.store.repo import (
    active_trial,
    find_account,
    get_nights,
    get_responses,
    save_profile,
)
from mgsleep.trial.analysis import analyse
from mgsleep.trial.analysis import report as summarise_trial
from mgsleep.web.app import create_app
from mgsleep.web.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
API = "/api/v1"
PASSWORD = "correct horse"
PROFILE: dict[str, Any] = {
    "age": 42,
    "sex": "female",
    "complaints": ["falling_asleep"],
    "medicines": [{"name": "omeprazol", "times": ["08:00"]}],
    "bedtime": "23:00",
}
STOP_PROFILE: dict[str, Any] = {"age": 71, "sex": "male", "kidney_disease": True}
NIGHT: dict[str, Any] = {
    "date": "2026-01-15",
    "in_bed": "22:30",
    "lights_out": "22:45",
    "sleep_latency_min": 20,
    "awakenings": 1,
    "waso_min": 15,
    "final_wake": "06:30",
    "out_of_bed": "07:00",
    "quality": 3,
}
ISI_ANSWERS = [3, 2, 1, 3, 1, 2, 2]
CSV_HEADER = "date,in_bed,lights_out,sleep_latency_min,final_wake,out_of_bed,quality\n"
TRIAL: dict[str, Any] = {"baseline_start": "2026-01-01", "magnesium_start": "2026-01-15"}


# ---- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def app(web_app: FastAPI) -> FastAPI:
    return web_app


class Person:
    """A browser of one person: its own cookies, and the CSRF token of its session."""

    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app)
        self.token = ""

    def signup(self, username: str, password: str = PASSWORD) -> Response:
        response: Response = self.client.post(
            f"{API}/auth/signup", json={"username": username, "password": password}
        )
        if response.status_code == 201:
            self.token = response.json()["csrf_token"]
        return response

    def login(self, username: str, password: str = PASSWORD) -> Response:
        response: Response = self.client.post(
            f"{API}/auth/login", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self.token = response.json()["csrf_token"]
        return response

    def get(self, path: str, **kwargs: Any) -> Response:
        response: Response = self.client.get(API + path, **kwargs)
        return response

    def send(self, method: str, path: str, **kwargs: Any) -> Response:
        headers = {"X-CSRF-Token": self.token, **kwargs.pop("headers", {})}
        response: Response = self.client.request(method, API + path, headers=headers, **kwargs)
        return response

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.send("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        return self.send("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.send("DELETE", path, **kwargs)


@pytest.fixture
def anna(app: FastAPI) -> Person:
    person = Person(app)
    assert person.signup("anna").status_code == 201
    return person


@pytest.fixture
def bob(app: FastAPI) -> Person:
    person = Person(app)
    assert person.signup("bob").status_code == 201
    return person


def reasons(response: Response) -> dict[str, str]:
    """field -> the English sentence of each problem (for people reading the API's answers)."""
    return {problem["field"]: problem["reason"] for problem in response.json()["detail"]}


def problems(response: Response, status_code: int = 422) -> dict[str, str]:
    """field -> code of an error answer, after checking it is JSON, not a stack trace."""
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail
    assert all(problem["field"] and problem["reason"] for problem in detail)
    assert all(problem["code"] for problem in detail)
    # The code, not the sentence: programs (and these tests) read codes.
    return {problem["field"]: problem["code"] for problem in detail}


def csv_file(text: str, name: str = "diary.csv") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, text.encode(), "text/csv")}


def night(day: str, **changes: Any) -> dict[str, Any]:
    return {**NIGHT, "date": day, **changes}


def with_data(person: Person) -> None:
    """A profile, two nights, an ISI and a trial: one of everything an account can hold."""
    assert person.put("/profile", json=PROFILE).status_code == 200
    for day in ("2026-01-15", "2026-01-16"):
        assert person.post("/nights", json=night(day)).status_code == 201
    isi = {"answers": ISI_ANSWERS, "date": "2026-01-14"}
    assert person.post("/isi", json=isi).status_code == 201
    assert person.post("/trial", json=TRIAL).status_code == 201


# ---- the schema ---------------------------------------------------------------------------------

API_PATHS = {
    "/auth/signup": {"post"},
    "/auth/login": {"post"},
    "/auth/logout": {"post"},
    "/auth/password": {"post"},
    "/auth/me": {"get"},
    "/profile": {"get", "put"},
    "/screen": {"get", "post"},
    "/plan": {"get"},
    "/schedule.ics": {"get"},
    "/today": {"get"},
    "/nights": {"get", "post"},
    "/nights/{night_date}": {"get", "put", "delete"},
    "/nights/import": {"post"},
    "/nights/import/{source}": {"post"},
    "/ingest/{source}": {"post"},
    "/nights/export.csv": {"get"},
    "/isi": {"get", "post"},
    "/trial": {"get", "post"},
    "/trial/status": {"get"},
    "/trial/power": {"get"},
    "/trial/report": {"get"},
    "/trial/report.html": {"get"},
    "/trial/report.pdf": {"get"},
    "/trial/blinding": {"get"},
    "/trial/helper-sheet.html": {"get"},
    "/label": {"post"},
    "/label/upload": {"post"},
    "/evidence/forms": {"get"},
    "/evidence/forms/{key}": {"get"},
    "/evidence/companions": {"get"},
    "/evidence/topics": {"get"},
    "/evidence/topics/{topic}": {"get"},
    "/export": {"get"},
    "/export/nights.csv": {"get"},
    "/account": {"delete"},
}
# The push route has no session: a token of its own (tests/test_ingest.py).
OPEN = {("post", "/auth/signup"), ("post", "/auth/login"), ("post", "/ingest/{source}")}
GUARDED = [
    (m, p) for p, methods in API_PATHS.items() for m in sorted(methods) if (m, p) not in OPEN
]
SAMPLE_PATH = {
    "{night_date}": "2026-01-15",
    "{key}": "citrate",
    "{topic}": "glycine",
    "{source}": "fitbit",
}


def concrete(path: str) -> str:
    for placeholder, value in SAMPLE_PATH.items():
        path = path.replace(placeholder, value)
    return path


def test_openapi_documents_every_endpoint_with_schema_families(app: FastAPI) -> None:
    schema = TestClient(app).get(f"{API}/openapi.json").json()
    documented = {
        path.removeprefix(API): set(operations)
        for path, operations in schema["paths"].items()
        if path.startswith(API)
    }
    assert documented == API_PATHS
    components = set(schema["components"]["schemas"])
    for family in ("NightCreate", "NightPublic", "ProfilePublic", "TrialStart", "TrialPublic"):
        assert family in components
    night_post = schema["paths"][f"{API}/nights"]["post"]
    assert "409" in night_post["responses"]
    assert "NightCreate" in json.dumps(night_post["requestBody"])


# ---- log-in, CSRF, rate limit -------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [g for g in GUARDED if g[0] == "get"])
def test_logged_out_gets_401(app: FastAPI, method: str, path: str) -> None:
    response = TestClient(app).get(API + concrete(path))
    assert response.status_code == 401
    assert response.json() == {"detail": "log in first"}


@pytest.mark.parametrize(("method", "path"), [g for g in GUARDED if g[0] != "get"])
def test_unsafe_without_csrf_header_is_refused(
    anna: Person, bob: Person, method: str, path: str
) -> None:
    with_data(anna)
    before = anna.get("/export").json()
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}, {"X-CSRF-Token": bob.token}):
        response = anna.client.request(method.upper(), API + concrete(path), headers=headers)
        assert response.status_code == 403, (headers, response.text)
    after = anna.get("/export").json()
    assert before | {"exported_at": None} == after | {"exported_at": None}


def test_signup_gives_a_session_and_a_token(app: FastAPI) -> None:
    person = Person(app)
    response = person.signup("  carla  ")
    assert response.status_code == 201
    assert response.json()["username"] == "carla"
    me = person.get("/auth/me").json()
    assert me == {"username": "carla", "csrf_token": person.token}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "password": PASSWORD}, "username"),
        ({"username": "a" * 151, "password": PASSWORD}, "username"),
        ({"username": "dora", "password": "short"}, "password"),
        ({"username": "dora"}, "password"),
        ({"username": "dora", "password": PASSWORD, "admin": True}, "admin"),
    ],
)
def test_signup_refuses_bad_input(app: FastAPI, body: dict[str, Any], field: str) -> None:
    response = TestClient(app).post(f"{API}/auth/signup", json=body)
    assert field in problems(response)


def test_signup_refuses_a_taken_name(app: FastAPI, anna: Person) -> None:
    assert "username" in problems(Person(app).signup("anna"), 409)


def test_signup_and_login_want_json_not_a_form(app: FastAPI, anna: Person) -> None:
    # A cross-site form can only send form fields; without JSON nothing happens.
    client = TestClient(app)
    form = {"username": "anna", "password": PASSWORD}
    assert client.post(f"{API}/auth/login", data=form).status_code == 422
    assert client.post(f"{API}/auth/signup", data={**form, "username": "eve"}).status_code == 422
    assert client.get(f"{API}/auth/me").status_code == 401


def test_login_logout(app: FastAPI, anna: Person) -> None:
    other = Person(app)
    assert other.login("anna", "wrong password").status_code == 401
    assert other.login("nobody").status_code == 401
    response = other.login("anna")
    assert response.status_code == 200
    assert response.json()["username"] == "anna"
    assert other.get("/auth/me").status_code == 200
    assert other.post("/auth/logout").status_code == 204
    assert other.get("/auth/me").status_code == 401
    assert anna.get("/auth/me").status_code == 200  # the other browser stays logged in


def test_login_refuses_bad_input(app: FastAPI) -> None:
    client = TestClient(app)
    assert "password" in problems(client.post(f"{API}/auth/login", json={"username": "x"}))
    long_name = {"username": "x" * 200, "password": PASSWORD}
    assert "username" in problems(client.post(f"{API}/auth/login", json=long_name))


def test_login_is_rate_limited_after_five_failures(app: FastAPI, anna: Person) -> None:
    other = Person(app)
    for _ in range(5):
        assert other.login("anna", "wrong password").status_code == 401
    limited = other.login("anna")  # even the right password
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert other.get("/auth/me").status_code == 401
    # Another name from the same place is counted apart.
    assert Person(app).login("nobody").status_code == 401


def test_a_new_login_starts_a_new_session(app: FastAPI, anna: Person, bob: Person) -> None:
    old_token = anna.token
    assert anna.login("bob").status_code == 200
    assert anna.token != old_token
    assert anna.get("/auth/me").json()["username"] == "bob"


# ---- profile, screen, plan, schedule -----------------------------------------------------------


def test_profile_round_trip(anna: Person) -> None:
    assert problems(anna.get("/profile"), 404) == {"profile": "no_profile"}
    stored = anna.put("/profile", json=PROFILE)
    assert stored.status_code == 200
    read = anna.get("/profile").json()
    assert read == stored.json()
    assert read["bedtime"] == "23:00"
    # Keys may be added to the contract (null when not given), never renamed or dropped.
    [medicine] = read["medicines"]
    assert {k: v for k, v in medicine.items() if v is not None} == {
        "name": "omeprazol",
        "times": ["08:00"],
    }
    assert anna.put("/profile", json={**read, "age": 43}).status_code == 200  # sent back as read
    assert anna.get("/profile").json()["age"] == 43


@pytest.mark.parametrize(
    ("change", "field", "code", "reason"),
    [
        ({"age": 0}, "age", "greater_than_equal", "greater than or equal to 1"),
        ({"sex": "robot"}, "sex", "enum", "female"),
        ({"sex": "male", "pregnant": True}, "pregnant", "pregnant_male", "sex male"),
        ({"bedtime": "25:00"}, "bedtime", "clock_format", "HH:MM"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown_zone", "Europe/Amsterdam"),
        ({"shoe_size": 42}, "shoe_size", "extra_forbidden", "Extra inputs"),
        ({"medicines": [{"name": ""}]}, "medicines.0.name", "string_too_short", "at least 1"),
    ],
)
def test_profile_refuses_bad_input(
    anna: Person, change: dict[str, Any], field: str, code: str, reason: str
) -> None:
    response = anna.put("/profile", json={**PROFILE, **change})
    assert problems(response)[field] == code
    assert reason in reasons(response)[field]
    assert anna.get("/profile").status_code == 404


def test_profile_without_body_or_with_broken_json(anna: Person) -> None:
    assert problems(anna.put("/profile")) == {"document": "missing"}
    json_type = {"content-type": "application/json"}
    broken = anna.put("/profile", content=b'{"age": 4', headers=json_type)
    assert problems(broken) == {"document": "json_invalid"}
    assert reasons(broken)["document"].startswith("not valid JSON at character")
    assert "document" in problems(anna.put("/profile", json=[1, 2]))


def test_screen_stored_and_given(anna: Person) -> None:
    assert anna.get("/screen").status_code == 404
    anna.put("/profile", json=PROFILE)
    stored = anna.get("/screen", params={"lang": "en"}).json()
    assert stored["gravest"] == "info"
    assert stored["findings"][0]["subject"] == "omeprazol"
    stop = anna.post("/screen", json=STOP_PROFILE).json()
    assert stop["gravest"] == "stop"
    assert stop["findings"][0]["severity"] == "stop"
    assert anna.get("/profile").json()["age"] == PROFILE["age"]  # POST /screen stores nothing
    assert "age" in problems(anna.post("/screen", json={"sex": "female"}))


def test_screen_speaks_the_asked_language(anna: Person) -> None:
    body = {**PROFILE, "medicines": [{"name": "unknownium"}]}
    dutch = anna.post("/screen", json=body, params={"lang": "nl"}).json()["findings"][0]
    english = anna.post("/screen", json=body, params={"lang": "en"}).json()["findings"][0]
    assert "not recognised" in english["message"]
    assert dutch["message"] != english["message"]


def test_plan_with_go_and_with_stop(anna: Person) -> None:
    assert anna.get("/plan").status_code == 404
    anna.put("/profile", json=PROFILE)
    plan = anna.get("/plan", params={"start": "2026-03-01"}).json()
    assert plan["verdict"] == "go"
    assert plan["form"] == plan["plan"]["form"]
    assert plan["elemental_mg"] > 0
    kinds = [entry["kind"] for entry in plan["timeline"]]
    assert "magnesium" in kinds
    assert "bedtime" in kinds
    assert plan["timeline"][-1]["start"].startswith("2026-03-01T23:00")
    anna.put("/profile", json=STOP_PROFILE)
    stop = anna.get("/plan").json()
    assert stop["verdict"] == "stop"
    assert stop["elemental_mg"] is None
    assert stop["findings"][0]["severity"] == "stop"


def test_plan_refuses_a_bad_start(anna: Person) -> None:
    anna.put("/profile", json=PROFILE)
    assert "query.start" in problems(anna.get("/plan", params={"start": "1 March"}))
    assert anna.get("/schedule.ics", params={"start": "2026-02-30"}).status_code == 422


def test_schedule_is_an_icalendar_for_the_trial_length(anna: Person) -> None:
    assert anna.get("/schedule.ics").status_code == 404
    anna.put("/profile", json=PROFILE)
    response = anna.get("/schedule.ics", params={"start": "2026-03-01"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]
    plan = make_plan(Profile.model_validate(PROFILE), start=date(2026, 3, 1))
    assert plan.expectations is not None
    days = plan.expectations.evaluate_after_weeks * 7
    text = response.text
    assert text.startswith("BEGIN:VCALENDAR")
    assert f"RRULE:FREQ=DAILY;COUNT={days}" in text
    assert "DTSTART;TZID=Europe/Amsterdam:20260301T230000" in text


def test_stored_profile_that_is_not_complete(app: FastAPI, anna: Person) -> None:
    # The questionnaire pages save as they go; a half-filled profile is named, not a crash.
    with session_scope(app.state.engine) as session:
        account = find_account(session, "anna")
        assert account is not None
        save_profile(session, account.id, {"age": 40})
    assert "sex" in problems(anna.get("/profile"), 409)
    assert "sex" in problems(anna.get("/plan"), 409)


# ---- nights ------------------------------------------------------------------------------------


def test_add_and_read_a_night_with_its_metrics(anna: Person) -> None:
    created = anna.post("/nights", json=NIGHT)
    assert created.status_code == 201
    stored = created.json()
    assert stored["in_bed"] == "22:30"
    assert stored["time_in_bed_min"] == 510
    assert stored["total_sleep_min"] == 465 - 20 - 15
    assert stored["sleep_efficiency_pct"] == pytest.approx(100 * 430 / 510)
    assert stored["sleep_latency_min"] == 20
    assert stored["waso_min"] == 15
    assert anna.get("/nights/2026-01-15").json() == stored
    assert anna.get("/nights").json() == [stored]


def test_a_night_that_is_there_already(anna: Person) -> None:
    anna.post("/nights", json=NIGHT)
    conflict = problems(anna.post("/nights", json=night("2026-01-15", quality=5)), 409)
    assert conflict == {"date": "night_exists"}
    assert anna.get("/nights/2026-01-15").json()["quality"] == 3
    replaced = anna.post("/nights", json=night("2026-01-15", quality=5), params={"replace": True})
    assert replaced.status_code == 201
    assert anna.get("/nights/2026-01-15").json()["quality"] == 5
    assert len(anna.get("/nights").json()) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lights_out": "22:00"}, "lights_out"),
        ({"final_wake": "22:40"}, "final_wake"),
        ({"sleep_latency_min": 500}, "sleep_latency_min"),
        ({"quality": 6}, "quality"),
        ({"in_bed": "half ten"}, "in_bed"),
        ({"date": "2026-13-01"}, "date"),
        ({"side_effects": ["headache"]}, "side_effects.0"),
        ({"steps": 10000}, "steps"),
    ],
)
def test_a_bad_night_is_refused_with_its_field(
    anna: Person, change: dict[str, Any], field: str
) -> None:
    assert field in problems(anna.post("/nights", json={**NIGHT, **change}))
    assert anna.get("/nights").json() == []


def test_a_missing_field_is_named(anna: Person) -> None:
    body = {k: v for k, v in NIGHT.items() if k != "out_of_bed"}
    assert problems(anna.post("/nights", json=body)) == {"out_of_bed": "missing"}


def test_list_nights_by_dates(anna: Person) -> None:
    for day in ("2026-01-15", "2026-01-16", "2026-01-17"):
        anna.post("/nights", json=night(day))
    between = anna.get("/nights", params={"start": "2026-01-16", "end": "2026-01-17"}).json()
    assert [n["date"] for n in between] == ["2026-01-16", "2026-01-17"]
    assert "query.end" in problems(anna.get("/nights", params={"end": "yesterday"}))


def test_change_a_night(anna: Person) -> None:
    anna.post("/nights", json=NIGHT)
    changed = anna.put("/nights/2026-01-15", json=night("2026-01-15", quality=4, notes="storm"))
    assert changed.status_code == 200
    assert anna.get("/nights/2026-01-15").json()["notes"] == "storm"
    other_date = anna.put("/nights/2026-01-15", json=night("2026-01-16"))
    assert "date" in problems(other_date)
    assert "lights_out" in problems(
        anna.put("/nights/2026-01-15", json=night("2026-01-15", lights_out="21:00"))
    )
    assert problems(anna.put("/nights/2026-01-20", json=night("2026-01-20")), 404)
    assert anna.get("/nights/2026-01-20").status_code == 404


def test_delete_a_night(anna: Person) -> None:
    anna.post("/nights", json=NIGHT)
    assert anna.delete("/nights/2026-01-15").status_code == 204
    assert problems(anna.get("/nights/2026-01-15"), 404)
    assert problems(anna.delete("/nights/2026-01-15"), 404)
    # Only a date names a night: another word is no address at all (so /nights/import is
    # never read as one).
    assert "path" in problems(anna.delete("/nights/someday"), 404)


def test_nights_of_another_source_are_apart(anna: Person) -> None:
    anna.post("/nights", json=NIGHT)
    ring = night("2026-01-15", source="oura", sleep_latency_min=12)
    assert anna.post("/nights", json=ring).status_code == 201
    assert anna.get("/nights/2026-01-15").json()["sleep_latency_min"] == 20
    assert anna.get("/nights/2026-01-15", params={"source": "oura"}).json()["source"] == "oura"
    assert anna.delete("/nights/2026-01-15", params={"source": "oura"}).status_code == 204
    assert len(anna.get("/nights").json()) == 1


# ---- CSV import and export ---------------------------------------------------------------------


def test_import_csv_and_import_it_again(anna: Person) -> None:
    text = (EXAMPLES / "diary-template.csv").read_text("utf-8")
    first = anna.post("/nights/import", files=csv_file(text))
    assert first.status_code == 200, first.text
    rows = len([line for line in text.splitlines()[1:] if line.strip()])
    assert first.json() | {"added": rows, "replaced": 0, "already_present": 0} == first.json()
    assert first.json()["replaced_dates"] == []
    assert first.json()["rejected"] == []
    again = anna.post("/nights/import", files=csv_file(text)).json()
    assert again["added"] == 0
    assert again["already_present"] == rows
    exported = anna.get("/nights/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert anna.post("/nights/import", files=csv_file(exported.text)).json()["added"] == 0


def test_import_with_bad_rows_imports_the_good_ones_and_lists_the_rest(anna: Person) -> None:
    text = CSV_HEADER + (
        "2026-01-15,22:30,22:45,20,06:30,07:00,3\n"
        "2026-01-16,22:30,22:00,20,06:30,07:00,3\n"
        "2026-01-17,22:30,22:45,20,06:30,07:00,9\n"
    )
    response = anna.post("/nights/import", files=csv_file(text))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["added"] == 1
    assert [(r["position"], r["field"], r["code"]) for r in result["rejected"]] == [
        ("row 3", "lights_out", "lights_out_before_bed"),
        ("row 4", "quality", "less_than_equal"),
    ]
    assert [n["date"] for n in anna.get("/nights").json()] == ["2026-01-15"]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"date,in_bed,colour\n2026-01-15,22:00,red\n", "header"),
        (b"date,in_bed\n", "header"),
        ("date,in_bed\n2026,\xe9\n".encode("latin-1"), "file"),
    ],
)
def test_import_refuses_a_bad_file(anna: Person, content: bytes, field: str) -> None:
    response = anna.post("/nights/import", files={"file": ("x.csv", content, "text/csv")})
    assert field in problems(response)


def test_import_without_a_file(anna: Person) -> None:
    assert "file" in problems(anna.post("/nights/import"))


def test_import_that_differs_from_the_diary(anna: Person) -> None:
    anna.post("/nights", json=NIGHT)
    text = CSV_HEADER + (
        "2026-01-14,22:30,22:45,20,06:30,07:00,3\n2026-01-15,22:30,22:45,20,06:30,07:00,5\n"
    )
    refused = anna.post("/nights/import", files=csv_file(text))
    assert problems(refused, 409) == {"file": "night_differs"}
    assert refused.json()["detail"][0]["params"]["date"] == "2026-01-15"
    assert [n["date"] for n in anna.get("/nights").json()] == ["2026-01-15"]
    replaced = anna.post("/nights/import", files=csv_file(text), params={"replace": True}).json()
    expected = {"added": 1, "replaced": 1, "already_present": 0, "replaced_dates": ["2026-01-15"]}
    assert replaced | expected == replaced
    assert anna.get("/nights/2026-01-15").json()["quality"] == 5


def test_import_in_another_time_zone(anna: Person) -> None:
    text = CSV_HEADER + "2026-01-15,22:30,22:45,20,06:30,07:00,3\n"
    zone = {"timezone": "America/New_York"}
    assert anna.post("/nights/import", files=csv_file(text), params=zone).status_code == 200
    assert anna.get("/nights/2026-01-15").json()["timezone"] == "America/New_York"
    bad_zone = anna.post("/nights/import", files=csv_file(text), params={"timezone": "Nowhere"})
    assert "timezone" in problems(bad_zone)


# ---- ISI ---------------------------------------------------------------------------------------


def test_isi_score_band_and_change(anna: Person) -> None:
    first = anna.post("/isi", json={"answers": ISI_ANSWERS, "date": "2026-01-01"})
    assert first.status_code == 201
    assert first.json()["total_points"] == sum(ISI_ANSWERS)
    assert first.json()["change_since_first"] is None
    later = anna.post(
        "/isi", json={"answers": [1, 1, 1, 1, 1, 1, 1], "date": "2026-02-01"}, params={"lang": "en"}
    ).json()
    assert later["change_since_first"]["points"] == 7 - sum(ISI_ANSWERS)
    assert later["change_since_first"]["direction"] == "improved"
    listed = anna.get("/isi").json()
    assert [r["date"] for r in listed] == ["2026-01-01", "2026-02-01"]
    assert {"total_points", "band", "band_label", "answers"} <= set(listed[0])


def test_isi_on_the_same_day(anna: Person) -> None:
    body = {"answers": ISI_ANSWERS, "date": "2026-01-01"}
    anna.post("/isi", json=body)
    assert "date" in problems(anna.post("/isi", json=body), 409)
    replaced = anna.post("/isi", json={**body, "answers": [0] * 7}, params={"replace": True})
    assert replaced.status_code == 201
    assert [r["total_points"] for r in anna.get("/isi").json()] == [0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": [1, 2, 3]}, "answers"),
        ({"answers": [1, 2, 3, 1, 2, 1, 5]}, "answers.7"),
        ({"answers": ["a"] * 7}, "answers.0"),
        ({"answers": ISI_ANSWERS, "date": "today"}, "date"),
        ({}, "answers"),
    ],
)
def test_isi_refuses_bad_answers(anna: Person, body: dict[str, Any], field: str) -> None:
    assert field in problems(anna.post("/isi", json=body))
    assert anna.get("/isi").json() == []


# ---- trial -------------------------------------------------------------------------------------


def test_trial_start_read_status(anna: Person) -> None:
    assert problems(anna.get("/trial"), 404) == {"trial": "no_trial"}
    started = anna.post("/trial", json={**TRIAL, "form": "citrate", "intake_time": "21:30"})
    assert started.status_code == 201
    protocol = anna.get("/trial").json()
    assert protocol == started.json()
    assert protocol["intake_time"] == "21:30"
    assert protocol["verdict_due_on"] == "2026-02-11"
    anna.post("/nights", json=night("2026-01-02"))
    status = anna.get("/trial/status", params={"as_of": "2026-01-10"}).json()
    assert status["nights_by_phase"]["baseline"] == 1
    assert status["verdict"] == "not_enough_data"
    assert status["verdict_due"] == "2026-02-11"


def test_a_new_trial_replaces_the_running_one(anna: Person) -> None:
    anna.post("/trial", json=TRIAL)
    later = {"baseline_start": "2026-03-01", "magnesium_start": "2026-03-15"}
    anna.post("/trial", json=later)
    assert anna.get("/trial").json()["baseline_start"] == "2026-03-01"
    exported = anna.get("/export").json()
    assert [t["baseline_start"] for t in exported["earlier_trials"]] == ["2026-01-01"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"magnesium_start": "2026-01-03"}, "magnesium_start"),
        ({"end": "2026-01-10"}, "end"),
        ({"design": "abc"}, "design"),
        ({"dose_mg": -5}, "dose_mg"),
        ({"design": "abab", "magnesium_start": "2026-01-08"}, "magnesium_start"),
        ({"primary_outcome": "mood"}, "primary_outcome"),
    ],
)
def test_trial_refuses_bad_input(anna: Person, change: dict[str, Any], field: str) -> None:
    assert field in problems(anna.post("/trial", json={**TRIAL, **change}))
    assert anna.get("/trial").status_code == 404


def test_trial_from_plan(anna: Person) -> None:
    body = {**TRIAL, "from_plan": True}
    assert "from_plan" in problems(anna.post("/trial", json=body))
    anna.put("/profile", json=STOP_PROFILE)
    assert "from_plan" in problems(anna.post("/trial", json=body))
    anna.put("/profile", json=PROFILE)
    started = anna.post("/trial", json=body).json()
    baseline = anna.get("/plan", params={"start": TRIAL["baseline_start"]}).json()
    assert started["form"] == baseline["form"]
    assert started["dose_mg"] == baseline["elemental_mg"]
    # The protocol decides each evening: nothing to take on a baseline night ...
    assert not [e for e in baseline["timeline"] if e["kind"] in {"magnesium", "glycine"}]
    first_magnesium = date.fromisoformat(TRIAL["magnesium_start"]) - timedelta(days=1)
    plan = anna.get("/plan", params={"start": first_magnesium.isoformat()}).json()
    # ... and the trial's magnesium, at its time, from the first magnesium evening.
    magnesium = next(e for e in plan["timeline"] if e["kind"] == "magnesium")
    assert magnesium["start"][11:16] == started["intake_time"]
    chosen = anna.post("/trial", json={**body, "form": "citrate"}).json()
    assert chosen["form"] == "citrate"  # what is given wins over the plan


def test_today_follows_the_running_trial(anna: Person) -> None:
    empty = anna.get("/today").json()
    assert empty["tonight"] == []
    assert empty["instruction"] is None
    anna.put("/profile", json=PROFILE)
    today = date.fromisoformat(anna.get("/today").json()["today"])
    started = {
        "baseline_start": today.isoformat(),
        "magnesium_start": (today + timedelta(days=14)).isoformat(),
    }
    assert anna.post("/trial", json={**started, "from_plan": True}).status_code == 201
    view = anna.get("/today").json()
    assert view["instruction"] == "diary_only"
    assert not [e for e in view["tonight"] if e["kind"] == "magnesium"]
    assert view["last_night_logged"] is False
    assert [p["phase"] for p in view["trial_phases"]] == ["baseline", "magnesium"]
    assert view["trial_phases"][0]["planned"] == 14


def test_the_demo_opens_on_the_persons_date_when_the_server_clock_is_a_day_behind(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 23:30 in UTC (a server's usual zone) is already 00:30 the next day in Amsterdam, the
    # demo profile's zone: the demo must end its diary on the person's date, not the server's.
    moment = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    seed_demo(app.state.engine, hash_password(DEMO_PASSWORD))
    demo = Person(app)
    assert demo.login(DEMO_USERNAME, DEMO_PASSWORD).status_code == 200
    today = demo.get("/today").json()
    assert today["today"] == today["last_night"] == "2026-12-02"
    assert today["last_night_logged"] is True
    nights = demo.get("/nights").json()
    assert max(n["date"] for n in nights) == "2026-12-02"


def test_trial_report_as_the_cli_gives_it(app: FastAPI) -> None:
    # The person's date, as the app reckons it (not the server's: they differ near midnight).
    today = demo_today()
    seed_demo(app.state.engine, hash_password(DEMO_PASSWORD), today)
    demo = Person(app)
    assert demo.login(DEMO_USERNAME, DEMO_PASSWORD).status_code == 200
    report = demo.get("/trial/report")
    assert report.status_code == 200
    with session_scope(app.state.engine) as session:
        account = find_account(session, DEMO_USERNAME)
        assert account is not None
        protocol = active_trial(session, account.id)
        assert protocol is not None
        nights = get_nights(session, account.id)
        isi = [(r.taken_on, r.total) for r in get_responses(session, account.id, "isi")]
    expected = summarise_trial(analyse(protocol, nights, as_of=today, isi_totals=isi)).model_dump(
        mode="json"
    )
    got = report.json()
    assert set(got) == set(expected)
    # The demo's 14 minutes are less than the published smallest change that matters (20):
    # better, but not by enough to say "improved".
    assert got["verdict"] == expected["verdict"] == "possibly_improved"
    assert got["outcomes"] == expected["outcomes"]
    assert got["analysis"]["questionnaire"]["instrument"] == "isi"
    early = demo.get("/trial/report", params={"as_of": (today - timedelta(days=30)).isoformat()})
    assert early.json()["verdict"] == "not_enough_data"
    html = demo.get("/trial/report.html", params={"lang": "nl"})
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert '<html lang="nl"' in html.text
    assert "<svg" in html.text


def test_report_needs_a_trial_and_a_real_date(anna: Person) -> None:
    for path in ("/trial/status", "/trial/report", "/trial/report.html"):
        assert problems(anna.get(path), 404) == {"trial": "no_trial"}
    anna.post("/trial", json=TRIAL)
    assert "query.as_of" in problems(anna.get("/trial/report", params={"as_of": "soon"}))


# ---- label -------------------------------------------------------------------------------------


def test_label_as_json_and_as_a_file(anna: Person) -> None:
    path = EXAMPLES / "labels" / "japanese-hybrid.json"
    as_json = anna.post("/label", json=json.loads(path.read_text("utf-8")))
    assert as_json.status_code == 200
    assert as_json.json()["elemental_mg"] > 0
    as_file = anna.post("/label/upload", files={"file": (path.name, path.read_bytes())})
    assert as_file.json() == as_json.json()
    yaml_path = EXAMPLES / "labels" / "buffered-glycinate.yaml"
    report = anna.post("/label/upload", files={"file": (yaml_path.name, yaml_path.read_bytes())})
    assert report.json()["elemental_mg"] == pytest.approx(200)


def test_label_refuses_bad_input(anna: Person) -> None:
    unknown = {"name": "X", "ingredients": [{"name": "unobtainium", "amount_mg": 10}]}
    assert problems(anna.post("/label", json=unknown))["ingredients.0.name"].startswith(
        "unknown_ingredient"
    )
    assert "ingredients" in problems(anna.post("/label", json={"name": "X", "ingredients": []}))
    no_basis = {"name": "X", "ingredients": [{"name": "citrate", "amount_mg": 100}]}
    assert problems(anna.post("/label", json=no_basis))["ingredients.0.basis"] == "basis_missing"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"name: X\ningredients:\n  - name: citrate\n    amount_mg: -1\n    basis: compound\n", 4),
        (b"name: X\ningredients: [\n", 3),
        (b"name: X\ncolour: red\ningredients:\n  - {name: glycine, amount_mg: 100}\n", 2),
    ],
)
def test_label_file_errors_name_their_line(anna: Person, content: bytes, line: int) -> None:
    response = anna.post("/label/upload", files={"file": ("label.yaml", content)})
    assert problems(response)
    assert response.json()["detail"][0]["line"] == line


def test_label_file_that_is_not_text(anna: Person) -> None:
    response = anna.post("/label/upload", files={"file": ("label.yaml", b"\xff\xfe\x00name")})
    assert problems(response) == {"file": "not_utf8"}


# ---- evidence ----------------------------------------------------------------------------------


def test_evidence_forms(anna: Person) -> None:
    forms = anna.get("/evidence/forms").json()
    keys = {f["key"] for f in forms}
    assert {"bisglycinate", "oxide", "citrate"} <= keys
    citrate = anna.get("/evidence/forms/citrate").json()
    assert citrate["key"] == "citrate"
    assert {"absorption", "corrections", "citations", "elemental_fraction"} <= set(citrate)
    assert anna.get("/evidence/forms/magnesiumcitraat").json()["key"] == "citrate"
    found = problems(anna.get("/evidence/forms/kryptonite"), 404)
    assert found == {"key": "unknown_name"}


def test_evidence_companions_and_topics(anna: Person) -> None:
    companions = anna.get("/evidence/companions").json()
    assert "glycine" in {c["key"] for c in companions}
    topics = anna.get("/evidence/topics").json()
    counts = {t["topic"]: t["references"] for t in topics}
    assert counts["glycine"] >= 1
    glycine = anna.get("/evidence/topics/glycine").json()
    assert glycine["topic"] == "glycine"
    assert glycine["references"]
    assert all({"authors", "year", "title"} <= set(r) for r in glycine["references"])
    assert "corrections" in glycine
    assert problems(anna.get("/evidence/topics/astrology"), 404) == {"topic": "unknown_name"}


# ---- privacy -----------------------------------------------------------------------------------


def test_export_holds_everything(anna: Person) -> None:
    with_data(anna)
    data = anna.get("/export").json()
    assert data["username"] == "anna"
    assert data["profile"]["age"] == PROFILE["age"]
    assert [n["date"] for n in data["nights"]] == ["2026-01-15", "2026-01-16"]
    assert data["nights"][0]["total_sleep_min"] > 0
    assert [r["answers"] for r in data["isi"]] == [ISI_ANSWERS]
    assert data["trial"]["baseline_start"] == TRIAL["baseline_start"]
    assert data["earlier_trials"] == []
    csv_text = anna.get("/export/nights.csv").text
    assert csv_text == anna.get("/nights/export.csv").text
    assert csv_text.count("\n") == 3


def test_delete_account_removes_everything(app: FastAPI, anna: Person) -> None:
    with_data(anna)
    assert anna.delete("/account").status_code == 204
    assert anna.get("/auth/me").status_code == 401
    assert Person(app).login("anna").status_code == 401
    again = Person(app)
    assert again.signup("anna").status_code == 201
    data = again.get("/export").json()
    assert data["profile"] is None
    assert data["nights"] == data["isi"] == data["earlier_trials"] == []
    assert data["trial"] is None


# ---- one person's data is out of reach of another ----------------------------------------------


def test_bob_cannot_read_annas_data(anna: Person, bob: Person) -> None:
    with_data(anna)
    for path in (
        "/profile",
        "/screen",
        "/plan",
        "/schedule.ics",
        "/nights/2026-01-15",
        "/trial",
        "/trial/status",
        "/trial/report",
        "/trial/report.html",
    ):
        assert bob.get(path).status_code == 404, path
    assert bob.get("/nights").json() == []
    assert bob.get("/isi").json() == []
    assert bob.get("/nights/export.csv").text.count("\n") == 1  # the header only
    assert bob.get("/export/nights.csv").text.count("\n") == 1
    export = bob.get("/export").json()
    assert export["username"] == "bob"
    assert export["profile"] is None
    assert export["nights"] == export["isi"] == export["earlier_trials"] == []
    assert export["trial"] is None


def test_bob_cannot_change_annas_data(anna: Person, bob: Person) -> None:
    with_data(anna)
    before = anna.get("/export").json()
    assert bob.put("/nights/2026-01-15", json=night("2026-01-15", quality=1)).status_code == 404
    assert bob.delete("/nights/2026-01-15").status_code == 404
    # Bob's own night on the same date is his, and leaves Anna's alone.
    assert bob.post("/nights", json=night("2026-01-15", quality=1)).status_code == 201
    assert bob.post("/isi", json={"answers": [0] * 7, "date": "2026-01-14"}).status_code == 201
    assert bob.post("/trial", json={**TRIAL, "form": "oxide"}).status_code == 201
    assert bob.put("/profile", json=STOP_PROFILE).status_code == 200
    imported = CSV_HEADER + "2026-01-16,22:30,22:45,20,06:30,07:00,1\n"
    assert bob.post("/nights/import", files=csv_file(imported)).status_code == 200
    assert bob.delete("/account").status_code == 204
    after = anna.get("/export").json()
    assert before | {"exported_at": None} == after | {"exported_at": None}


def test_bob_cannot_use_annas_token(anna: Person, bob: Person) -> None:
    # A token belongs to its session: Anna's token does not open Bob's session.
    response = bob.client.post(f"{API}/nights", json=NIGHT, headers={"X-CSRF-Token": anna.token})
    assert response.status_code == 403
    assert bob.get("/nights").json() == []


def test_the_same_answers_on_postgresql_and_sqlite(store_url: str) -> None:
    """Deleting one night and listing every trial, on both databases."""
    application = create_app(Settings(database_url=store_url, secret_key="x" * 40))
    with TestClient(application):
        anna, bob = Person(application), Person(application)
        assert anna.signup("anna").status_code == 201
        assert bob.signup("bob").status_code == 201
        with_data(anna)
        assert bob.delete("/nights/2026-01-15").status_code == 404
        assert anna.delete("/nights/2026-01-15").status_code == 204
        anna.post("/trial", json={"baseline_start": "2026-03-01", "magnesium_start": "2026-03-15"})
        data = anna.get("/export").json()
        assert [n["date"] for n in data["nights"]] == ["2026-01-16"]
        assert data["trial"]["baseline_start"] == "2026-03-01"
        assert [t["baseline_start"] for t in data["earlier_trials"]] == ["2026-01-01"]
        assert bob.delete("/account").status_code == 204
        assert anna.delete("/account").status_code == 204


def test_a_deleted_accounts_session_does_not_open_a_new_account_with_its_id(app: FastAPI) -> None:
    # SQLite hands a deleted row's id to the next insert; the session must not follow it.
    anna = Person(app)
    assert anna.signup("anna").status_code == 201
    second_device = Person(app)
    assert second_device.login("anna").status_code == 200
    assert anna.delete("/account").status_code == 204
    zoe = Person(app)
    assert zoe.signup("zoe").status_code == 201
    assert second_device.get("/auth/me").status_code == 401


def test_trial_power_plans_a_trial_and_then_follows_the_running_one(anna: Person) -> None:
    from mgsleep.diary.csvio import to_csv
    from tests.simulate import diary
    from tests.simulate import protocol as simulated_protocol

    before = anna.get("/trial/power")
    assert before.status_code == 200
    plan = before.json()
    assert set(plan) >= {"outcome", "source", "nights_used", "plan", "trial"}
    assert (plan["source"], plan["trial"]) == ("defaults", None)
    assert {d["design"] for d in plan["plan"]["designs"]} == {
        "ab",
        "ab_equal",
        "abab",
        "pairs_7",
        "pairs_10",
        "pairs_14",
    }
    first = demo_today() - timedelta(days=15)
    trial = simulated_protocol(14).model_copy(
        update={"baseline_start": first, "magnesium_start": first + timedelta(days=14)}
    )
    imported = anna.post("/nights/import", files=csv_file(to_csv(diary(8, trial, 16))))
    assert imported.status_code == 200, imported.text
    body = {"baseline_start": str(first), "magnesium_start": str(trial.magnesium_start)}
    assert anna.send("POST", "/trial", json=body).status_code == 201
    during = anna.get("/trial/power").json()
    assert (during["source"], during["nights_used"]) == ("trial_nights", 16)
    assert during["trial"]["design"] == "ab"
    assert during["trial"]["nights"] == 42
    assert during["trial"]["analysed_nights"] == 42
