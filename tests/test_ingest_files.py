"""A device export through the API (POST /api/v1/nights/import/{source}) and the /import
page: one service function, one summary, and a failure told in the reader's words."""

from __future__ import annotations

import html
import json
import re

import pytest

from mgsleep.diary.sources import SOURCE_NAMES, SOURCES
from tests import test_api
from tests.test_api import Person, problems
from tests.test_ingest import push_body

JSON_FILE = "application/json"
# The API tests' fixtures: an app on SQLite, and a person signed up to it.
app = test_api.app
anna = test_api.anna


def export_file(
    body: bytes, name: str = "HealthAutoExport.json"
) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, body, JSON_FILE)}


def test_the_api_imports_a_device_export_with_the_file_summary(anna: Person) -> None:
    answer = anna.post("/nights/import/health_auto_export", files=export_file(push_body(2, 3)))
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["added"], summary["nights_found"], summary["zone_rule"]) == (2, 2, "file")
    again = anna.post("/nights/import/health_auto_export", files=export_file(push_body(2, 3)))
    assert (again.json()["added"], again.json()["already_present"]) == (0, 2)
    assert [n["source"] for n in anna.get("/nights").json()] == ["health_auto_export"] * 2


def test_the_api_dry_run_counts_and_stores_nothing(anna: Person) -> None:
    answer = anna.post(
        "/nights/import/health_auto_export",
        params={"dry_run": "true"},
        files=export_file(push_body(2)),
    )
    assert (answer.json()["added"], answer.json()["dry_run"]) == (1, True)
    assert anna.get("/nights").json() == []


def test_the_api_refuses_a_changed_night_unless_asked_to_replace(anna: Person) -> None:
    path = "/nights/import/health_auto_export"
    anna.post(path, files=export_file(push_body(2, asleep_hr=5.0)))
    changed = export_file(push_body(2, asleep_hr=7.0))
    assert problems(anna.post(path, files=changed), 409) == {"file": "night_differs"}
    replaced = anna.post(path, params={"replace": "true"}, files=changed)
    assert replaced.json()["replaced_dates"] == ["2026-03-02"]


def test_the_api_says_why_a_file_is_not_that_sources_export(anna: Person) -> None:
    answer = anna.post("/nights/import/fitbit", files=export_file(b"not json"))
    assert problems(answer) == {"file": "refused"}
    unknown = anna.post("/nights/import/nokia", files=export_file(push_body(2)))
    assert problems(unknown) == {"source": "unknown_name"}
    zone = anna.post(
        "/nights/import/fitbit", params={"timezone": "Mars/Base"}, files=export_file(b"[]")
    )
    assert problems(zone) == {"timezone": "unknown_zone"}


def test_the_api_upload_needs_the_csrf_token_before_the_file_is_read(anna: Person) -> None:
    answer = anna.client.post(
        "/api/v1/nights/import/health_auto_export", files=export_file(push_body(2))
    )
    assert answer.status_code == 403
    assert anna.get("/nights").json() == []


# ---- the page ----------------------------------------------------------------------------------


def page_csrf(person: Person, lang: str) -> str:
    found = re.search(
        r'name="csrf_token" value="([^"]+)"', person.client.get(f"/import?lang={lang}").text
    )
    assert found is not None
    return found[1]


def alert_of(page: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.S)
    assert found is not None
    return html.unescape(found[1])


def test_the_dropdown_names_every_source_and_sends_its_key(anna: Person) -> None:
    page = anna.client.get("/import?lang=en").text
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', page)
    assert [key for key, _name in options] == list(SOURCES)
    assert dict(options) == {key: html.escape(SOURCE_NAMES[key]) for key in SOURCES}
    assert all(name != key for key, name in options)


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize(
    ("source", "body", "names_the_source"),
    [
        ("fitbit", b"not json", True),
        ("sleep_as_android", b"Date;Time\n1;2\n", True),
        ("health_auto_export", json.dumps({"data": {"workouts": []}}).encode(), True),
        ("health_auto_export", push_body(2).replace(b"2026-03-02 06:45:00", b"when"), True),
        ("sleep_cycle", b"Start;End\n", False),  # a file without records: said by its code
    ],
)
def test_a_failed_import_shows_its_message_in_place_through_htmx(
    anna: Person, lang: str, source: str, body: bytes, names_the_source: bool
) -> None:
    token = page_csrf(anna, lang)
    answer = anna.client.post(
        f"/import?lang={lang}&csrf_token={token}",
        data={"source": source, "csrf_token": token},
        files=export_file(body, "export.bin"),
        headers={"HX-Request": "true"},
    )
    # htmx swaps in only a success: the page with its message comes as one.
    assert answer.status_code == 200
    message = alert_of(answer.text)
    assert source not in message  # the source's name, never its key
    for parser_english in ("Expecting value", "not a ", "record header", "not JSON", "entry "):
        assert parser_english not in message
    if lang == "en":
        assert message.startswith("Nothing was imported:")
        assert (SOURCE_NAMES[source] in message) == names_the_source
    assert anna.get("/nights").json() == []


def test_a_failed_import_without_htmx_is_a_422_page(anna: Person) -> None:
    token = page_csrf(anna, "en")
    answer = anna.client.post(
        f"/import?csrf_token={token}",
        data={"source": "fitbit", "csrf_token": token},
        files=export_file(b"not json"),
    )
    assert answer.status_code == 422
    assert "Fitbit" in alert_of(answer.text)


def test_the_page_names_a_clash_by_its_code(anna: Person) -> None:
    token = page_csrf(anna, "en")

    def upload(asleep_hr: float) -> str:
        return anna.client.post(
            f"/import?csrf_token={token}",
            data={"source": "health_auto_export", "csrf_token": token},
            files=export_file(push_body(2, asleep_hr=asleep_hr)),
        ).text

    upload(5.0)
    assert "differs from the one already stored" in alert_of(upload(7.0))
