"""A blinded trial's allocation is sealed: no page, API answer or export reveals it before the
trial has ended, and it is revealed after."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mgsleep import clock
from mgsleep.store.db import session_scope
from mgsleep.store.repo import active_trial_for_helper, find_account
from mgsleep.web import deps
from mgsleep.web.app import create_app
from mgsleep.web.settings import Settings

API = "/api/v1"
FIRST = date(2026, 3, 2)
TRIAL = {
    "baseline_start": FIRST.isoformat(),
    "magnesium_start": FIRST.isoformat(),
    "design": "pairs",
    "pairs": 2,
    "period_nights": 7,
    "washout_days": 1,
    "blinded": True,
    "dose_mg": 200,
    "form": "bisglycinate",
}
END = FIRST + timedelta(days=4 * 7 + 3)  # the first morning after the last night
PAGES = [
    "/",
    "/trial",
    "/trial/report.html",
    "/trial/report.pdf",
    "/diary",
    "/plan",
    "/plan.ics",
    "/account",
    "/account/export.json",
    "/account/export.csv",
    "/trial/helper-sheet.html",
]
API_ROUTES = [
    "/today",
    "/schedule.ics",
    "/trial",
    "/trial/status",
    "/trial/report",
    "/trial/report.html",
    "/trial/report.pdf",
    "/trial/blinding",
    "/trial/helper-sheet.html",
    "/export",
    "/nights",
    "/nights/export.csv",
]


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def set_day(self, day: date) -> None:
        self.moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def settable(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moment = Clock()
    monkeypatch.setattr(deps, "now", moment.now)
    monkeypatch.setattr(clock, "now", moment.now)
    return moment


@pytest.fixture
def app(tmp_path: Path, settable: Clock) -> Iterator[FastAPI]:
    application = create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/x.db", secret_key="x" * 40)
    )
    with TestClient(application):
        yield application


def _signed_in(app: FastAPI, signup: bool) -> tuple[TestClient, str]:
    client = TestClient(app)
    path = "/auth/signup" if signup else "/auth/login"
    answer = client.post(API + path, json={"username": "anna", "password": "correct horse"})
    assert answer.status_code in (200, 201), answer.text
    return client, answer.json()["csrf_token"]


def _night(day: date, guess: str) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "in_bed": "22:30",
        "lights_out": "22:45",
        "sleep_latency_min": 20 + day.day % 7,
        "final_wake": "06:30",
        "out_of_bed": "07:00",
        "quality": 3,
        "blind_guess": guess,
    }


def _everything(client: TestClient) -> dict[str, tuple[int, str]]:
    found = {}
    for path in PAGES:
        answer = client.get(path, follow_redirects=False)
        found[path] = (answer.status_code, answer.content.decode("latin-1"))
    for path in API_ROUTES:
        answer = client.get(API + path)
        found[API + path] = (answer.status_code, answer.content.decode("latin-1"))
    return found


def _seed(app: FastAPI) -> int:
    with session_scope(app.state.engine, write=False) as session:
        account = find_account(session, "anna")
        assert account is not None
        protocol = active_trial_for_helper(session, account.id)
    assert protocol is not None
    assert protocol.seed is not None
    return protocol.seed


def _allocation_marks(text: str, seed: int) -> list[str]:
    """What would give the allocation away: the seed, the pair orders, a period's phase."""
    marks = [str(seed), '"pair_orders":["', '"allocation_seed":' + str(seed), "data-period="]
    marks += ['"baseline":', '"magnesium":{'] if text.startswith("{") else []
    return [mark for mark in marks if mark in re.sub(r"\s", "", text)]


def test_the_allocation_stays_sealed_until_the_trial_ends(app: FastAPI, settable: Clock) -> None:
    client, token = _signed_in(app, signup=True)
    started = client.post(API + "/trial", json=TRIAL, headers={"X-CSRF-Token": token})
    assert started.status_code == 201, started.text
    assert started.json()["allocation_sealed"] is True
    assert started.json()["pair_orders"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", started.json()["allocation_fingerprint"])
    seed = _seed(app)
    for offset in range((END - FIRST).days):
        night = _night(
            FIRST + timedelta(days=offset), ("magnesium", "placebo", "unsure")[offset % 3]
        )
        answer = client.post(API + "/nights", json=night, headers={"X-CSRF-Token": token})
        assert answer.status_code == 201, answer.text

    for day in (FIRST + timedelta(days=10), END - timedelta(days=1)):
        settable.set_day(day)
        client, token = _signed_in(app, signup=False)
        seen = _everything(client)
        # Signed in and shown: the pages answer, they do not send the reader to log in.
        assert seen["/trial"][0] == 200
        assert "data-registration-hash" in seen["/trial"][1]
        assert seen[API + "/trial/status"][0] == 200
        for where, (code, text) in seen.items():
            assert code < 500, where
            assert _allocation_marks(text, seed) == [], where
        assert client.get(API + "/trial/report").status_code == 409
        assert client.get(API + "/trial/report").json()["detail"][0]["code"] == "trial_sealed"

    settable.set_day(END)
    client, token = _signed_in(app, signup=False)
    opened = client.get(API + "/trial").json()
    assert opened["allocation_sealed"] is False
    assert opened["allocation_seed"] == seed
    assert len(opened["pair_orders"]) == 2
    assert client.get(API + "/trial/report").status_code == 200
    report = client.get(API + "/trial/report.html")
    assert report.status_code == 200
    # The same look-out that found nothing before finds the allocation now.
    assert _allocation_marks(report.text, seed) != []
    assert _allocation_marks(client.get(API + "/trial").text, seed) != []
    blinding = client.get(API + "/trial/blinding").json()
    assert blinding["guesses"] > 0
    assert client.get("/trial/report.pdf").content.startswith(b"%PDF")


def test_the_helper_sheet_is_handed_out_only_before_the_first_period(
    app: FastAPI, settable: Clock
) -> None:
    client, token = _signed_in(app, signup=True)
    assert (
        client.post(API + "/trial", json=TRIAL, headers={"X-CSRF-Token": token}).status_code == 201
    )
    sheet = client.get(API + "/trial/helper-sheet.html")
    assert sheet.status_code == 200
    assert sheet.text.count("data-dose=") == 28
    assert sheet.text.count(">magnesium<") == 14
    settable.set_day(FIRST)
    client, _token = _signed_in(app, signup=False)
    closed = client.get(API + "/trial/helper-sheet.html")
    assert closed.status_code == 409
    assert closed.json()["detail"][0]["code"] == "helper_sheet_closed"
