"""The diary, ISI, trial and account pages, driven through their forms as a browser would."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient

from mgsleep.clock import DEFAULT_TIMEZONE
from mgsleep.demo import DEMO_PASSWORD, DEMO_PROFILE, seed_demo
from mgsleep.diary.csvio import parse_csv
from mgsleep.diary.night import NightEntry
from mgsleep.diary.questionnaires import change, score
from mgsleep.evidence import load_evidence
from mgsleep.i18n import translations
from mgsleep.plan import make_plan
from mgsleep.profile import Profile
from mgsleep.security import hash_password
from mgsleep.store.db import session_scope
from mgsleep.store.repo import (
    active_trial,
    add_response,
    find_account,
    get_nights,
    get_responses,
    save_profile,
)
from mgsleep.trial.kinds import Phase

PASSWORD = "a-long-password"
CSV_HEADER = (
    "date,in_bed,lights_out,sleep_latency_min,awakenings,waso_min,final_wake,out_of_bed,"
    "quality,magnesium_mg,intake_time,bath,side_effects,notes\n"
)


def today() -> date:
    return datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def night_form(night: date, **changes: Any) -> dict[str, Any]:
    """A usual night: 8.5 hours in bed, 7 h 25 min asleep, efficiency 87%."""
    form: dict[str, Any] = {
        "date": night.isoformat(),
        "in_bed": "22:30",
        "lights_out": "22:45",
        "sleep_latency_min": "20",
        "awakenings": "1",
        "waso_min": "15",
        "final_wake": "06:45",
        "out_of_bed": "07:00",
        "quality": "4",
    }
    return form | changes


# ---- a logged-in browser ---------------------------------------------------------------------


@pytest.fixture
def app(web_app: Any) -> Any:
    return web_app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, headers={"Accept-Language": "en"}) as client:
        yield client


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, "no CSRF token on " + path
    return found.group(1)


def sign_up(client: TestClient, username: str) -> None:
    token = csrf(client, "/signup")
    answer = client.post(
        "/signup",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def log_in(client: TestClient, username: str, password: str) -> int:
    token = csrf(client, "/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    return answer.status_code


@pytest.fixture
def anna(client: TestClient) -> TestClient:
    sign_up(client, "anna")
    return client


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Submit a form the way a browser does: with the token from the page it is on."""
    return client.post(
        action, data={**data, "csrf_token": csrf(client, page)}, follow_redirects=False
    )


def add_night(client: TestClient, night: date, **changes: Any) -> Any:
    return post_form(client, "/diary", "/diary", night_form(night, **changes))


def owner_id(app: Any, username: str) -> int:
    with session_scope(app.state.engine) as session:
        account = find_account(session, username)
        assert account is not None
        return account.id


def stored_nights(app: Any, username: str) -> list[NightEntry]:
    with session_scope(app.state.engine) as session:
        account = find_account(session, username)
        return [] if account is None else get_nights(session, account.id)


class _FormReader(HTMLParser):
    """The fields a browser would send for one form, as it stands on the page."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.textarea: str | None = None
        self.fields: dict[str, Any] = {}

    def _add(self, name: str, value: str) -> None:
        if name in self.fields:
            existing = self.fields[name]
            self.fields[name] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            self.fields[name] = value

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        elif self.inside and tag == "input" and "name" in found:
            kind = found.get("type", "text")
            if kind not in ("radio", "checkbox") or "checked" in found:
                self._add(found["name"], found.get("value", ""))
        elif self.inside and tag == "textarea":
            self.textarea = found["name"]
            self._add(self.textarea, "")

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None


def form_fields(page: str, action: str) -> dict[str, Any]:
    reader = _FormReader(action)
    reader.feed(page)
    return reader.fields


def text_of(page: Any) -> str:
    return html.unescape(page.text)


def upload(client: TestClient, text: str, *, replace: bool = False) -> Any:
    data = {"csrf_token": csrf(client, "/diary")}
    if replace:
        data["replace"] = "yes"
    return client.post(
        "/diary/import",
        params={"csrf_token": data["csrf_token"]},
        data=data,
        files={"file": ("diary.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )


# ---- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/diary",
        "/diary/2026-01-10",
        "/diary/export.csv",
        "/isi",
        "/trial",
        "/trial/report.html",
        "/account",
        "/account/export.json",
        "/account/export.csv",
    ],
)
def test_a_logged_out_visitor_is_sent_to_log_in(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path.split('?')[0]}"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("/diary", night_form(date(2026, 1, 10))),
        ("/diary/2026-01-10", night_form(date(2026, 1, 10))),
        ("/diary/2026-01-10/delete", {}),
        ("/isi", {f"item_{n}": "1" for n in range(1, 8)}),
        ("/trial", {"baseline_start": "2026-01-01", "magnesium_start": "2026-01-15"}),
        ("/account/delete", {"confirm": "yes"}),
    ],
)
def test_every_form_needs_the_csrf_token(
    app: Any, anna: TestClient, action: str, data: dict[str, Any]
) -> None:
    add_night(anna, date(2026, 1, 10))
    before = stored_nights(app, "anna")
    for token in (None, "forged"):
        sent = data if token is None else {**data, "csrf_token": token}
        assert anna.post(action, data=sent, follow_redirects=False).status_code == 403
    assert stored_nights(app, "anna") == before
    assert anna.get("/account").status_code == 200


def test_csv_upload_needs_the_csrf_token(app: Any, anna: TestClient) -> None:
    csv_text = CSV_HEADER + "2026-01-10,22:30,22:45,20,1,15,06:45,07:00,4,,,no,,\n"
    answer = anna.post("/diary/import", files={"file": ("d.csv", csv_text.encode(), "text/csv")})
    assert answer.status_code == 403
    assert stored_nights(app, "anna") == []


def test_the_pages_speak_dutch_and_english(anna: TestClient) -> None:
    add_night(anna, date(2026, 1, 10))
    pages = ["/diary", "/diary/2026-01-10", "/diary/2026-01-10/delete", "/isi", "/trial"]
    for path in [*pages, "/account"]:
        dutch = anna.get(path, params={"lang": "nl"})
        assert dutch.status_code == 200
        assert '<html lang="nl">' in dutch.text
        english = anna.get(path, params={"lang": "en"})
        assert '<html lang="en">' in english.text
    assert "Slaapdagboek" in anna.get("/diary", params={"lang": "nl"}).text
    assert "Sleep diary" in anna.get("/diary", params={"lang": "en"}).text
    # The language chosen once is remembered for the pages after it.
    anna.get("/diary", params={"lang": "nl"})
    assert '<html lang="nl">' in anna.get("/account").text


# ---- the diary -------------------------------------------------------------------------------


def test_adding_a_night_lists_it_with_its_metrics(app: Any, anna: TestClient) -> None:
    answer = add_night(anna, date(2026, 1, 10), side_effects=["nausea"], notes="noisy street")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/diary?saved=2026-01-10"
    page = anna.get(answer.headers["location"])
    assert "Saved the night of Sat 10 Jan 2026: 7 h 25 min asleep, sleep efficiency 87%." in (
        text_of(page)
    )
    row = re.search(r'<tr data-night="2026-01-10">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[:5] == [
        "8 h 30 min",
        "7 h 25 min",
        "87%",
        "4/5",
        "—",
    ]
    assert 'href="/diary/2026-01-10"' in row.group(1)
    [stored] = stored_nights(app, "anna")
    assert stored.sleep_latency_min == 20
    assert [effect.value for effect in stored.side_effects] == ["nausea"]
    assert stored.notes == "noisy street"


def test_the_form_is_filled_in_like_the_night_before(anna: TestClient) -> None:
    yesterday = today() - timedelta(days=1)
    usual = night_form(
        yesterday,
        in_bed="23:10",
        lights_out="23:25",
        sleep_latency_min="35",
        final_wake="06:50",
        out_of_bed="07:05",
        quality="2",
        magnesium_mg="150",
        intake_time="21:45",
        bath="yes",
        side_effects=["loose_stools"],
        notes="just this night",
    )
    assert post_form(anna, "/diary", "/diary", usual).status_code == 303
    page = anna.get("/diary").text

    def value(name: str) -> str:
        found = re.search(rf'id="night-{name}" name="{name}" type="\w+" value="([^"]*)"', page)
        assert found is not None, name
        return found.group(1)

    assert value("date") == today().isoformat()
    assert [value(n) for n in ("in_bed", "lights_out", "final_wake", "out_of_bed")] == [
        "23:10",
        "23:25",
        "06:50",
        "07:05",
    ]
    assert value("sleep_latency_min") == "35"
    assert value("magnesium_mg") == "150"
    assert value("intake_time") == "21:45"
    assert 'value="2" checked' in page
    assert 'name="bath" value="yes" checked' in page
    # What happened on one night only is not carried over.
    assert 'value="loose_stools" checked' not in page
    assert "just this night" not in page
    # A usual night is then one tap: the form is sent as it was filled in.
    tapped = anna.post("/diary", data=form_fields(page, "/diary"), follow_redirects=False)
    assert tapped.status_code == 303
    assert tapped.headers["location"] == f"/diary?saved={today().isoformat()}"
    assert "is already in your diary" in anna.get("/diary").text


def test_without_an_earlier_night_the_form_starts_empty(anna: TestClient) -> None:
    page = anna.get("/diary").text
    assert 'id="night-in_bed" name="in_bed" type="time" value=""' in page
    assert "Filled in like your night" not in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"lights_out": "22:00"}, "lights_out", "Lights out can't be before you got into bed."),
        ({"final_wake": "22:40"}, "final_wake", "The final awakening can't be before lights out."),
        (
            {"out_of_bed": "06:30"},
            "out_of_bed",
            "Getting out of bed can't be before the final awakening.",
        ),
        (
            {"sleep_latency_min": "400", "waso_min": "200"},
            "sleep_latency_min",
            "The minutes to fall asleep plus the minutes awake are more than the time",
        ),
        ({"sleep_latency_min": "twenty"}, "sleep_latency_min", "Enter a whole number."),
        ({"awakenings": "-1"}, "awakenings", "Enter 0 or more."),
        ({"quality": "9"}, "quality", "Enter 5 or less."),
        ({"in_bed": ""}, "in_bed", "Fill this in."),
        ({"final_wake": "25:99"}, "final_wake", "Enter a time as HH:MM"),
        ({"date": "yesterday"}, "date", "Enter a date as YYYY-MM-DD."),
        ({"side_effects": ["headache"]}, "side_effects", "Choose one of the options."),
    ],
)
def test_an_impossible_or_mistyped_night_is_refused_at_its_field(
    app: Any, anna: TestClient, changes: dict[str, Any], field: str, message: str
) -> None:
    answer = add_night(anna, date(2026, 1, 10), **changes)
    assert answer.status_code == 422
    page = text_of(answer)
    error = re.search(rf'<p class="error" id="night-{field}-error">(.*?)</p>', page)
    assert error is not None, page
    assert error.group(1).startswith(message)
    if field not in ("quality", "side_effects"):
        assert f'aria-describedby="night-{field}-error"' in page
    # What was typed stays in the form, and nothing is stored.
    for name, typed in night_form(date(2026, 1, 10)).items():
        if name not in changes and name != "quality":
            assert re.search(rf'name="{name}" type="\w+" value="{typed}"', page), name
    assert stored_nights(app, "anna") == []


def test_htmx_gets_the_form_with_its_errors_as_a_success(anna: TestClient) -> None:
    token = csrf(anna, "/diary")
    data = {**night_form(date(2026, 1, 10), lights_out="22:00"), "csrf_token": token}
    answer = anna.post("/diary", data=data, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert 'id="night-lights_out-error"' in answer.text


def test_a_second_entry_for_the_same_night_asks_before_replacing(
    app: Any, anna: TestClient
) -> None:
    add_night(anna, date(2026, 1, 10))
    again = add_night(anna, date(2026, 1, 10), sleep_latency_min="45")
    assert again.status_code == 409
    assert "There is already a night for Sat 10 Jan 2026 in your diary." in text_of(again)
    assert 'name="replace" value="yes"' in again.text
    assert 'id="night-sleep_latency_min" name="sleep_latency_min" type="number" value="45"' in (
        again.text
    )
    assert [n.sleep_latency_min for n in stored_nights(app, "anna")] == [20]

    confirmed = add_night(anna, date(2026, 1, 10), sleep_latency_min="45", replace="yes")
    assert confirmed.status_code == 303
    assert [n.sleep_latency_min for n in stored_nights(app, "anna")] == [45]


def test_a_night_can_be_edited_and_deleted(app: Any, anna: TestClient) -> None:
    add_night(anna, date(2026, 1, 10), notes="first version")
    edit = anna.get("/diary/2026-01-10")
    assert edit.status_code == 200
    assert 'value="22:30"' in edit.text
    assert "first version" in edit.text
    assert 'id="night-date"' not in edit.text  # the date is the page's, not a field

    refused = post_form(
        anna, "/diary/2026-01-10", "/diary/2026-01-10", night_form(date(2026, 1, 10), waso_min="x")
    )
    assert refused.status_code == 422
    assert 'id="night-waso_min-error"' in refused.text

    changed = night_form(date(2026, 1, 10), quality="2", notes="second version")
    saved = post_form(anna, "/diary/2026-01-10", "/diary/2026-01-10", changed)
    assert saved.status_code == 303
    [stored] = stored_nights(app, "anna")
    assert (stored.quality, stored.notes) == (2, "second version")

    confirm = anna.get("/diary/2026-01-10/delete")
    assert confirm.status_code == 200
    assert "Delete the night of Sat 10 Jan 2026?" in confirm.text
    assert stored_nights(app, "anna") != []  # asking is not deleting
    gone = post_form(anna, "/diary/2026-01-10/delete", "/diary/2026-01-10/delete", {})
    assert gone.status_code == 303
    assert gone.headers["location"] == "/diary?deleted=2026-01-10"
    assert "Deleted the night of Sat 10 Jan 2026." in anna.get(gone.headers["location"]).text
    assert stored_nights(app, "anna") == []
    assert anna.get("/diary/2026-01-10").status_code == 404
    again = anna.post("/diary/2026-01-10/delete", data={"csrf_token": csrf(anna, "/diary")})
    assert again.status_code == 404


def test_one_person_cannot_reach_another_persons_night(app: Any, client: TestClient) -> None:
    sign_up(client, "anna")
    add_night(client, date(2026, 1, 10), notes="anna's night")
    client.cookies.clear()
    sign_up(client, "bert")
    assert client.get("/diary/2026-01-10").status_code == 404
    assert client.get("/diary/2026-01-10/delete").status_code == 404
    edit = post_form(client, "/diary", "/diary/2026-01-10", night_form(date(2026, 1, 10)))
    assert edit.status_code == 404
    delete = post_form(client, "/diary", "/diary/2026-01-10/delete", {})
    assert delete.status_code == 404
    assert "anna's night" not in client.get("/diary").text
    [night] = stored_nights(app, "anna")
    assert night.notes == "anna's night"


# ---- CSV -------------------------------------------------------------------------------------


def test_csv_import_takes_the_good_rows_and_lists_the_bad_ones(app: Any, anna: TestClient) -> None:
    good = (
        CSV_HEADER
        + "2026-01-10,22:30,22:45,20,1,15,06:45,07:00,4,,,no,,\n"
        + "2026-01-11,23:00,23:10,30,2,20,06:40,07:00,3,200,21:30,yes,nausea,busy day\n"
    )
    bad = "2026-01-12,23:00,22:00,30,0,0,06:40,07:00,3,,,no,,\n"
    partly = upload(anna, CSV_HEADER + bad)
    assert partly.status_code == 200
    page = text_of(partly)
    assert "Rows with a problem were left out: 1. The other rows were imported." in page
    assert "Row 2, lights_out: Lights out can't be before you got into bed." in page
    assert stored_nights(app, "anna") == []

    imported = upload(anna, good)
    assert imported.status_code == 303
    assert (
        "2 nights added, 0 replaced, 0 already present."
        in anna.get(imported.headers["location"]).text
    )
    assert [n.date.day for n in stored_nights(app, "anna")] == [10, 11]

    again = upload(anna, good)
    assert (
        "0 nights added, 0 replaced, 2 already present." in anna.get(again.headers["location"]).text
    )


def test_a_conflicting_csv_changes_nothing_unless_told_to_replace(
    app: Any, anna: TestClient
) -> None:
    add_night(anna, date(2026, 1, 11))
    # The new night comes first: it must not stay behind when the conflict stops the import.
    conflicting = (
        CSV_HEADER
        + "2026-01-10,22:30,22:45,20,1,15,06:45,07:00,4,,,no,,\n"
        + "2026-01-11,22:30,22:45,50,1,15,06:45,07:00,4,,,no,,\n"
    )
    refused = upload(anna, conflicting)
    assert refused.status_code == 422
    assert "The night of Sun 11 Jan 2026 in the file differs" in text_of(refused)
    assert [(n.date.day, n.sleep_latency_min) for n in stored_nights(app, "anna")] == [(11, 20)]

    replaced = upload(anna, conflicting, replace=True)
    assert replaced.status_code == 303
    assert "1 nights added, 1 replaced" in anna.get(replaced.headers["location"]).text
    assert [(n.date.day, n.sleep_latency_min) for n in stored_nights(app, "anna")] == [
        (10, 20),
        (11, 50),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Choose a CSV file first."),
        (b"\xff\xfe\x00bad", "not a UTF-8 text file"),
        (b"day,bed\n2026-01-10,22:00\n", "The first line of the file is not right"),
    ],
)
def test_an_unreadable_csv_is_explained(
    app: Any, anna: TestClient, content: bytes, message: str
) -> None:
    token = csrf(anna, "/diary")
    answer = anna.post(
        "/diary/import",
        params={"csrf_token": token},
        data={"csrf_token": token},
        files={"file": ("diary.csv", content, "text/csv")},
    )
    assert answer.status_code == 422
    assert message in text_of(answer)
    assert stored_nights(app, "anna") == []


def test_the_diary_exports_as_csv_that_imports_again(app: Any, anna: TestClient) -> None:
    add_night(anna, date(2026, 1, 10), magnesium_mg="200", intake_time="21:30", bath="yes")
    add_night(anna, date(2026, 1, 11), side_effects=["nausea", "other"], notes="late dinner")
    export = anna.get("/diary/export.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert export.text.startswith(CSV_HEADER.rstrip("\n"))
    parsed = list(parse_csv(export.text))
    assert parsed == stored_nights(app, "anna")
    assert anna.get("/account/export.csv").text == export.text


# ---- the ISI ---------------------------------------------------------------------------------


def test_the_isi_shows_every_item_with_its_anchors(anna: TestClient) -> None:
    q = load_evidence().questionnaire("isi")
    page = text_of(anna.get("/isi"))
    assert page.count("<fieldset") == len(q.items) == 7
    for number, item in enumerate(q.items, start=1):
        assert f"<legend>{number}. {item.text.en}</legend>" in page
        for value, anchor in enumerate(item.anchors):
            assert f'id="isi-{number}-{value}"' in page
            assert f"{value} · {anchor.en}</label>" in page
    dutch = text_of(anna.get("/isi", params={"lang": "nl"}))
    assert q.items[0].text.nl in dutch
    assert q.items[0].anchors[4].nl in dutch


def test_the_isi_is_scored_and_the_change_shown(app: Any, anna: TestClient) -> None:
    q = load_evidence().questionnaire("isi")
    incomplete = post_form(anna, "/isi", "/isi", {f"item_{n}": "2" for n in range(1, 7)})
    assert incomplete.status_code == 422
    assert 'id="isi-7-error"' in incomplete.text
    assert 'id="isi-1-2" name="item_1" value="2" required checked' in incomplete.text
    out_of_range = post_form(
        anna, "/isi", "/isi", {f"item_{n}": "9" if n == 3 else "1" for n in range(1, 8)}
    )
    assert out_of_range.status_code == 422
    assert 'id="isi-3-error"' in out_of_range.text
    assert get_isi(app, "anna") == []

    earlier = [3, 3, 2, 3, 3, 3, 3]
    with session_scope(app.state.engine) as session:
        uid = owner_id(app, "anna")
        add_response(session, uid, "isi", today() - timedelta(days=30), earlier, sum(earlier))
    answers = [1, 1, 1, 2, 1, 1, 1]
    saved = post_form(
        anna, "/isi", "/isi", {f"item_{n}": str(a) for n, a in enumerate(answers, start=1)}
    )
    assert saved.status_code == 303
    page = text_of(anna.get(saved.headers["location"]))
    latest = score(q, answers)
    assert f"Insomnia Severity Index (ISI): 8 of 28 points — {latest.band_label.en}." in page
    expected = change(q, score(q, earlier), latest).text.en
    assert expected in page
    assert "from 20 to 8 points" in expected
    assert [r.total for r in get_isi(app, "anna")] == [20, 8]

    # Answering again on the same day corrects that day's answers.
    post_form(anna, "/isi", "/isi", {f"item_{n}": "0" for n in range(1, 8)})
    assert [r.total for r in get_isi(app, "anna")] == [20, 0]


def get_isi(app: Any, username: str) -> list[Any]:
    with session_scope(app.state.engine) as session:
        return get_responses(session, owner_id(app, username), "isi")


# ---- the trial -------------------------------------------------------------------------------


def test_a_trial_needs_a_profile_first(app: Any, anna: TestClient) -> None:
    page = anna.get("/trial")
    assert "Fill in your profile first" in page.text
    assert 'action="/trial"' not in page.text
    refused = post_form(
        anna,
        "/trial",
        "/trial",
        {"baseline_start": today().isoformat(), "magnesium_start": "2099-01-01"},
    )
    assert refused.status_code == 422
    with session_scope(app.state.engine) as session:
        assert active_trial(session, owner_id(app, "anna")) is None


def test_a_trial_starts_from_the_plan(app: Any, anna: TestClient) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)
    plan = make_plan(Profile.model_validate(DEMO_PROFILE), start=today())
    assert plan.elemental_mg is not None

    page = anna.get("/trial")
    start = today().isoformat()
    assert f'name="baseline_start" type="date" required value="{start}"' in page.text
    magnesium_start = (today() + timedelta(days=14)).isoformat()
    assert f'value="{magnesium_start}"' in page.text
    assert f"From your plan: {plan.elemental_mg:.0f} mg elemental magnesium" in page.text

    too_short = post_form(
        anna,
        "/trial",
        "/trial",
        {
            "baseline_start": start,
            "magnesium_start": (today() + timedelta(days=3)).isoformat(),
            "design": "ab",
        },
    )
    assert too_short.status_code == 422
    assert "The baseline needs at least 7 nights" in text_of(too_short)
    assert 'id="trial-magnesium_start-error"' in too_short.text

    started = post_form(
        anna,
        "/trial",
        "/trial",
        {"baseline_start": start, "magnesium_start": magnesium_start, "design": "ab"},
    )
    assert started.status_code == 303
    with session_scope(app.state.engine) as session:
        protocol = active_trial(session, owner_id(app, "anna"))
    assert protocol is not None
    assert (protocol.form, protocol.dose_mg) == (plan.form, plan.elemental_mg)
    assert protocol.intake_time is not None
    assert protocol.magnesium_start == today() + timedelta(days=14)

    progress = text_of(anna.get(started.headers["location"]))
    assert "Your trial has started." in progress
    assert "Nights logged: baseline" in progress
    assert "Not enough data yet for a verdict" in progress
    due = format_date(protocol.magnesium_start + timedelta(days=27), "EEE d MMM y", locale="en")
    assert f"The verdict is due on {due} if you log every night." in progress
    assert "Tonight is a night without magnesium." in progress


def test_an_abab_trial_needs_a_longer_baseline(app: Any, anna: TestClient) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)
    ten_nights = {"baseline_start": "2026-01-01", "magnesium_start": "2026-01-11"}
    refused = post_form(anna, "/trial", "/trial", {**ten_nights, "design": "abab"})
    assert refused.status_code == 422
    assert "In A-B-A-B every phase is as long as the baseline" in text_of(refused)
    assert 'id="trial-design-abab" name="design" value="abab" checked' in refused.text
    accepted = post_form(anna, "/trial", "/trial", {**ten_nights, "design": "ab"})
    assert accepted.status_code == 303


def test_a_second_trial_needs_the_current_one_stopped_on_purpose(
    app: Any, anna: TestClient
) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)
    first = {"baseline_start": "2026-01-01", "magnesium_start": "2026-01-15", "design": "ab"}
    assert post_form(anna, "/trial", "/trial", first).status_code == 303
    second = {**first, "baseline_start": "2026-02-01", "magnesium_start": "2026-03-01"}
    refused = post_form(anna, "/trial?new=1", "/trial", second)
    assert refused.status_code == 422
    assert 'id="trial-replace_current-error"' in refused.text
    replaced = post_form(anna, "/trial?new=1", "/trial", {**second, "replace_current": "yes"})
    assert replaced.status_code == 303
    with session_scope(app.state.engine) as session:
        protocol = active_trial(session, owner_id(app, "anna"))
    assert protocol is not None
    assert protocol.baseline_start == date(2026, 2, 1)


def test_a_stop_plan_starts_no_trial_and_says_why(app: Any, anna: TestClient) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE | {"heart_block": True})
    plan = make_plan(Profile.model_validate(DEMO_PROFILE | {"heart_block": True}))
    [stop] = [f for f in plan.findings if f.severity.value == "stop"]
    page = text_of(anna.get("/trial"))
    assert "Your plan proposes no magnesium, so there is nothing to test." in page
    assert stop.message.en in page
    assert 'action="/trial"' not in page
    refused = post_form(
        anna, "/trial", "/trial", {"baseline_start": "2026-01-01", "magnesium_start": "2026-01-15"}
    )
    assert refused.status_code == 422
    with session_scope(app.state.engine) as session:
        assert active_trial(session, owner_id(app, "anna")) is None


@pytest.fixture
def demo(app: Any, client: TestClient) -> TestClient:
    seed_demo(app.state.engine, hash_password(DEMO_PASSWORD), today())
    assert log_in(client, "demo", DEMO_PASSWORD) == 303
    return client


def test_the_trial_report_page_with_its_charts(app: Any, demo: TestClient) -> None:
    page = demo.get("/trial")
    assert page.status_code == 200
    text = text_of(page)
    # The demo diary misses a few nights, as a real one does: the page counts what is there.
    with session_scope(app.state.engine) as session:
        protocol = active_trial(session, owner_id(app, "demo"))
    assert protocol is not None
    phases = [protocol.phase_of(n.date) for n in stored_nights(app, "demo")]
    baseline, magnesium = phases.count(Phase.baseline), phases.count(Phase.magnesium)
    assert baseline + magnesium < 14 + 28
    assert f"Nights logged: baseline</th><td>{baseline}</td>" in text
    assert f"Nights logged: magnesium</th><td>{magnesium}</td>" in text
    assert "Possibly improved: on magnesium your time to fall asleep was probably better" in text
    assert len(re.findall(r'<tr data-outcome="\w+">', text)) == 5
    # The charts are drawn into the page (SVG): no second request, nothing to cache apart.
    titles = re.findall(r'<svg [^>]*role="img"[^>]*>\s*<title id="[\w-]+">([^<]+)</title>', text)
    assert len(titles) == 10
    assert "Time to fall asleep, night by night" in titles
    assert "no-store" in page.headers["cache-control"]

    report = demo.get("/trial/report.html")
    assert report.status_code == 200
    assert '<html lang="en">' in report.text
    assert "<svg" in report.text
    download = demo.get("/trial/report.html", params={"download": "1", "lang": "nl"})
    assert "attachment" in download.headers["content-disposition"]
    assert '<html lang="nl">' in download.text


def test_the_trial_page_in_dutch(demo: TestClient) -> None:
    page = text_of(demo.get("/trial", params={"lang": "nl"}))
    assert '<html lang="nl">' in page
    dutch = translations("nl").gettext
    assert f'<h2 id="verdict-heading">{dutch("Verdict")}</h2>' in page
    assert dutch("Nights logged: %(phase)s") % {"phase": "baseline"} not in page


def test_during_a_trial_the_diary_follows_its_phase(demo: TestClient) -> None:
    page = demo.get("/diary").text
    assert 'id="night-magnesium_mg" name="magnesium_mg" type="text" value="200"' in page


def test_the_report_needs_a_trial(anna: TestClient) -> None:
    answer = anna.get("/trial/report.html", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/trial"


# ---- the account -----------------------------------------------------------------------------


def test_the_export_holds_my_data_and_nobody_elses(app: Any, client: TestClient) -> None:
    sign_up(client, "bert")
    add_night(client, date(2026, 1, 9), notes="bert's secret")
    client.cookies.clear()
    sign_up(client, "anna")
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)
    add_night(client, date(2026, 1, 10), notes="anna's night")
    post_form(client, "/isi", "/isi", {f"item_{n}": "2" for n in range(1, 8)})
    post_form(
        client,
        "/trial",
        "/trial",
        {"baseline_start": "2026-01-01", "magnesium_start": "2026-01-15", "design": "ab"},
    )

    export = client.get("/account/export.json")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/json")
    assert "attachment" in export.headers["content-disposition"]
    data = json.loads(export.text)
    # The same document as the API's GET /api/v1/export.
    assert data["username"] == "anna"
    assert data["profile"] == DEMO_PROFILE
    [night] = data["nights"]
    assert (night["date"], night["notes"]) == ("2026-01-10", "anna's night")
    assert night["total_sleep_min"] == 445
    assert [r["answers"] for r in data["isi"]] == [[2] * 7]
    assert data["trial"]["baseline_start"] == "2026-01-01"
    assert data["earlier_trials"] == []
    assert "bert" not in export.text
    assert "anna's night" in client.get("/account/export.csv").text
    assert "bert's secret" not in client.get("/account/export.csv").text


def test_deleting_the_account_needs_a_tick_and_removes_everything(
    app: Any, anna: TestClient
) -> None:
    uid = owner_id(app, "anna")
    add_night(anna, date(2026, 1, 10))
    post_form(anna, "/isi", "/isi", {f"item_{n}": "2" for n in range(1, 8)})
    with session_scope(app.state.engine) as session:
        save_profile(session, uid, DEMO_PROFILE)

    unticked = post_form(anna, "/account", "/account/delete", {})
    assert unticked.status_code == 422
    assert 'id="confirm-error"' in unticked.text
    assert stored_nights(app, "anna") != []

    anna.get("/account", params={"lang": "nl"})
    deleted = post_form(anna, "/account", "/account/delete", {"confirm": "yes"})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/"
    # Logged out, but the language stays.
    assert anna.get("/diary", follow_redirects=False).status_code == 303
    assert '<html lang="nl">' in anna.get("/").text
    with session_scope(app.state.engine) as session:
        assert find_account(session, "anna") is None
        assert get_nights(session, uid) == []
        assert get_responses(session, uid, "isi") == []
    assert log_in(anna, "anna", PASSWORD) == 401


def test_clock_values_survive_the_form(anna: TestClient, app: Any) -> None:
    add_night(
        anna,
        date(2026, 1, 10),
        in_bed="00:15",
        lights_out="00:30",
        final_wake="08:00",
        out_of_bed="08:15",
    )
    [night] = stored_nights(app, "anna")
    assert (night.in_bed, night.lights_out) == (time(0, 15), time(0, 30))
    page = anna.get("/diary/2026-01-10").text
    assert 'id="night-in_bed" name="in_bed" type="time" value="00:15"' in page


# ---- the daily loop: home, a first night, what comes next ---------------------------------


def _start_trial_tomorrow(app: Any, user: str, first_morning: date) -> None:
    from mgsleep.store.repo import start_trial
    from mgsleep.trial.protocol import TrialProtocol

    protocol = TrialProtocol(
        baseline_start=first_morning,
        magnesium_start=first_morning + timedelta(days=14),
        form="bisglycinate",
        dose_mg=200,
        intake_time=time(22, 0),
    )
    with session_scope(app.state.engine) as session:
        start_trial(session, owner_id(app, user), protocol)


def test_home_says_tonight_is_a_night_without_magnesium_in_the_baseline(
    app: Any, anna: TestClient
) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)
    _start_trial_tomorrow(app, "anna", today() + timedelta(days=1))
    page = text_of(anna.get("/?lang=en"))
    assert "No magnesium tonight." in page
    assert "Magnesium for your trial" not in page
    assert "Nights without magnesium: 0 of 14 logged" in page
    assert "Log last night" in page


def test_home_says_take_the_trials_dose_on_a_magnesium_evening(app: Any, anna: TestClient) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)
    # Fourteen baseline mornings ago the trial began: tonight is its first magnesium evening.
    _start_trial_tomorrow(app, "anna", today() - timedelta(days=13))
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text_of(anna.get("/?lang=en"))))
    assert "Take your magnesium tonight." in page
    assert re.search(r"22:00 .{0,3} 22:30 Magnesium for your trial: 200 mg as", page), page
    assert "nights of the past week are not in your diary" in page


def test_home_points_to_the_profile_before_there_is_one(anna: TestClient) -> None:
    page = text_of(anna.get("/?lang=en"))
    assert "Start here" in page
    assert "Describe yourself" in page


def test_the_first_night_starts_from_the_profile_bedtime(app: Any, anna: TestClient) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)  # bedtime 23:00
    html = anna.get("/diary?lang=en").text
    assert 'name="lights_out" type="time" value="23:00"' in html
    assert 'name="in_bed" type="time" value="22:45"' in html
    assert 'name="final_wake" type="time" value="07:00"' in html
    assert "filled in from the bedtime in your profile" in text_of(anna.get("/diary?lang=en"))


def test_a_saved_night_keeps_its_tags_and_says_what_comes_next(app: Any, anna: TestClient) -> None:
    night = today().isoformat()
    form = night_form(today(), tags=["alcohol", "stress"]) | {"csrf_token": csrf(anna, "/diary")}
    saved = anna.post("/diary", data=form)
    assert saved.status_code == 200
    page = text_of(saved)
    assert "What next" in page
    assert "See tonight" in page
    stored = stored_nights(app, "anna")
    assert [n.date.isoformat() for n in stored] == [night]
    assert [t.value for t in stored[0].tags] == ["alcohol", "stress"]


def test_the_diary_shows_the_last_four_weeks_as_charts(demo: TestClient) -> None:
    page = text_of(demo.get("/diary?lang=en"))
    assert "The last four weeks" in page
    for outcome in ("total_sleep_min", "sleep_latency_min"):
        figure = re.search(rf'<figure data-chart="{outcome}">(.*?)</figure>', page, re.S)
        assert figure is not None
        assert '<svg viewBox="0 0 ' in figure.group(1)
        assert 'role="img"' in figure.group(1)
        # A text summary beside the chart, for whoever cannot see it.
        assert re.search(
            r"\d+ nights logged\. Over all of them \d+ min on average", figure.group(1)
        )


def test_a_new_diary_has_no_chart_yet(anna: TestClient) -> None:
    assert "The last four weeks" not in text_of(anna.get("/diary?lang=en"))


def test_the_trial_set_up_says_how_many_nights_each_design_needs(
    app: Any, anna: TestClient
) -> None:
    with session_scope(app.state.engine) as session:
        save_profile(session, owner_id(app, "anna"), DEMO_PROFILE)
    page = text_of(anna.get("/trial?lang=en"))
    power = re.search(r'<section id="power".*?</section>', page, re.S)
    assert power is not None
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td data-label="Nights">([^<]+)</td>', power.group(0)
    )
    assert len(rows) == 6
    assert "Randomised pairs of 10-night periods" in dict(rows)
    assert "Worked out from usual values" in power.group(0)
    # Once there are nights without magnesium, the plan is worked out from them.
    for offset in range(1, 11):
        add_night(
            anna, today() - timedelta(days=offset), sleep_latency_min=str(15 + 7 * (offset % 4))
        )
    power = re.search(
        r'<section id="power".*?</section>', text_of(anna.get("/trial?lang=en")), re.S
    )
    assert power is not None
    assert "Worked out from how much your own nights" in power.group(0)


def _trial_with_nights(app: Any, user: str, first_morning: date, nights: int) -> None:
    from mgsleep.demo import simulated_nights
    from mgsleep.store.repo import import_nights, start_trial
    from mgsleep.trial.protocol import TrialProtocol

    protocol = TrialProtocol(
        baseline_start=first_morning, magnesium_start=first_morning + timedelta(days=14)
    )
    owner = owner_id(app, user)
    with session_scope(app.state.engine) as session:
        start_trial(session, owner, protocol)
        import_nights(session, owner, simulated_nights(3, protocol, nights))


def test_a_running_trial_says_whether_it_is_long_enough(app: Any, anna: TestClient) -> None:
    _trial_with_nights(app, "anna", today() - timedelta(days=19), 20)
    html_en = anna.get("/trial?lang=en").text
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(html_en)))
    assert "Is your trial long enough?" in page
    chance = re.search(r"your trial as planned \((\d+) nights\) has a (\d+)% chance", page)
    assert chance is not None, page
    assert chance.group(1) == "42"
    shown = int(chance.group(2))
    # The page shows what the API works out from the same nights.
    worked_out = anna.get("/api/v1/trial/power").json()
    assert worked_out["source"] == "trial_nights"
    assert worked_out["nights_used"] == 20
    assert shown == round(100 * worked_out["trial"]["power"])
    assert "20 nights in this trial varied" in page
    assert html_en.count('<tr><th scope="row">') >= 6  # the designs, in a fold
    from tests.test_pages_dutch import dutch_text, english_in

    dutch = dutch_text(anna.get("/trial?lang=nl").text)
    assert "Is uw proef lang genoeg?" in dutch
    assert "20 nachten in deze proef" in dutch
    assert english_in(dutch) == []


def test_the_trial_page_waits_two_weeks_before_it_uses_the_trials_nights(
    app: Any, anna: TestClient
) -> None:
    _trial_with_nights(app, "anna", today() - timedelta(days=5), 6)
    page = text_of(anna.get("/trial?lang=en"))
    assert "Is your trial long enough?" in page
    assert "After two weeks of the trial, from the trial's own nights." in page
    assert anna.get("/api/v1/trial/power").json()["source"] == "defaults"


def test_a_blinded_trial_says_how_long_without_opening_its_allocation(
    app: Any, anna: TestClient
) -> None:
    from mgsleep.demo import simulated_nights
    from mgsleep.store.repo import import_nights, start_trial
    from mgsleep.trial.protocol import TrialProtocol

    first = today() - timedelta(days=20)
    protocol = TrialProtocol(
        baseline_start=first,
        magnesium_start=first,
        design="pairs",
        pairs=4,
        period_nights=7,
        blinded=True,
        seed=11,
    )
    owner = owner_id(app, "anna")
    with session_scope(app.state.engine) as session:
        start_trial(session, owner, protocol)
        import_nights(session, owner, simulated_nights(9, protocol, 21, effect_min=-20))
    page = re.sub(r"\s+", " ", text_of(anna.get("/trial?lang=en")))
    assert "Is your trial long enough?" in page
    assert "While the trial is blinded, all nights are taken together" in page
    assert re.search(r"your trial as planned \(56 nights\) has a \d+% chance", page)
    outlook = anna.get("/api/v1/trial/power").json()
    assert outlook["source"] == "trial_nights"
    assert "allocation" not in json.dumps(outlook)
