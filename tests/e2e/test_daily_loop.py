"""The daily loop in a real Chromium, on a phone and a desktop, in Dutch and English: start a
trial from the plan, see tonight change from a night without magnesium to a magnesium night on
the right date, log last night from the home page, an import that fails, and the language
switch in the middle of the questionnaire.

The server's clock is held still (`server_clock`) and moved a day at a time, as a person
opens the app each evening."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from mgsleep.trial.kinds import Evening
from mgsleep.trial.protocol import IDEAL_BASELINE_NIGHTS, TrialProtocol
from tests.e2e.conftest import PASSWORD, SettableClock, new_page, shot, sign_up, t

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[1] / "data"
API = "/api/v1"
# A Monday well away from a clock change, so every evening of the baseline is an ordinary one.
FIRST_DAY = date(2026, 9, 7)
PROFILE: dict[str, Any] = {
    "age": 44,
    "sex": "female",
    "complaints": ["falling_asleep"],
    "bedtime": "23:00",
}
LANGS = ["en", "nl"]
_people = iter(range(1, 1_000_000))


class Person:
    """The browser's own session, used through the API for what a test only sets up."""

    def __init__(self, page: Any, server: str, lang: str) -> None:
        self.page, self.server = page, server
        name = f"loop{next(_people)}-{page.viewport_name}-{lang}"
        answer = page.request.post(
            f"{server}{API}/auth/signup", data={"username": name, "password": PASSWORD}
        )
        assert answer.status == 201, answer.text()
        self.token = answer.json()["csrf_token"]

    def get(self, path: str) -> Any:
        answer = self.page.request.get(f"{self.server}{API}{path}")
        assert answer.ok, answer.text()
        return answer.json()

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        answer = self.page.request.fetch(
            f"{self.server}{API}{path}",
            method=method,
            data=body,
            headers={"X-CSRF-Token": self.token},
        )
        assert answer.ok, answer.text()
        return answer.json()


class Counted:
    """A page whose clicks, fills and checks are counted: the person's interactions."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.interactions = 0

    def click(self, locator: Any) -> None:
        self.interactions += 1
        locator.click()

    def fill(self, locator: Any, value: str) -> None:
        self.interactions += 1
        locator.fill(value)

    def check(self, locator: Any) -> None:
        self.interactions += 1
        locator.check()


def _protocol(public: dict[str, Any]) -> TrialProtocol:
    """The running trial as the API gives it, as a protocol (with its allocation's seed)."""
    fields = {k: v for k, v in public.items() if k in TrialProtocol.model_fields}
    return TrialProtocol.model_validate({**fields, "seed": public.get("allocation_seed")})


def _home(page: Any, server: str, lang: str) -> str:
    page.goto(f"{server}/?lang={lang}")
    return str(page.locator("#tonight").inner_text())


@pytest.mark.parametrize("lang", LANGS)
def test_a_trial_from_the_plan_turns_tonight_into_a_magnesium_night_on_its_date(
    server: str, page: Any, server_clock: SettableClock, lang: str
) -> None:
    server_clock.set_day(FIRST_DAY)
    person = Person(page, server, lang)
    person.send("PUT", "/profile", PROFILE)
    page.goto(f"{server}/plan?lang={lang}")
    page.get_by_role("link", name=t(lang, "Start a trial (recommended)")).click()
    page.wait_for_url(f"{server}/trial**")
    # The journey the plan recommends: the nights without magnesium first, then magnesium.
    page.locator("#trial-design-ab").check()
    page.get_by_role("button", name=t(lang, "Start the trial")).click()
    page.wait_for_url(f"{server}/trial?started=1**")
    protocol = _protocol(person.get("/trial"))
    assert protocol.baseline_start == FIRST_DAY
    assert protocol.dose_mg is not None
    # The dose as a number of its own ("200 mg", not the end of "1200 mg").
    dose = re.compile(rf"(?<![\d.,]){protocol.dose_mg:.0f}\s?mg")
    # Each evening from today, until the first one with magnesium: what the home page says
    # is what the protocol says of that evening.
    day = FIRST_DAY
    while True:
        server_clock.set_day(day)
        tonight = _home(page, server, lang)
        assert page.locator("#trial-progress").is_visible()
        if protocol.evening(day) is Evening.diary_only:
            assert t(lang, "No magnesium tonight.") in tonight, (day, tonight)
            assert not dose.search(tonight), (day, tonight)
            if day == FIRST_DAY:
                shot(page, f"today-baseline-{lang}")
            day += timedelta(days=1)
            continue
        assert protocol.evening(day) is Evening.magnesium, day
        assert t(lang, "Take your magnesium tonight.") in tonight, (day, tonight)
        assert dose.search(tonight), (day, tonight)
        shot(page, f"today-magnesium-{lang}")
        break
    # The evening of the first magnesium morning's night: two weeks after the first night.
    assert day == protocol.magnesium_start - timedelta(days=1)
    assert (protocol.magnesium_start - FIRST_DAY).days == IDEAL_BASELINE_NIGHTS


@pytest.mark.parametrize("lang", LANGS)
def test_log_last_night_from_the_home_page_in_under_ten_interactions(
    server: str, page: Any, server_clock: SettableClock, lang: str
) -> None:
    server_clock.set_day(FIRST_DAY)
    person = Person(page, server, lang)
    person.send("PUT", "/profile", PROFILE)
    # A trial from three nights ago: those three are missing, and the home page says so.
    started = FIRST_DAY - timedelta(days=3)
    trial = {
        "baseline_start": started.isoformat(),
        "magnesium_start": (started + timedelta(days=14)).isoformat(),
        "from_plan": True,
    }
    person.send("POST", "/trial", trial)
    page.goto(f"{server}/?lang={lang}")
    missing = page.locator("#missing-nights a")
    assert missing.count() == 3
    shot(page, f"today-missing-{lang}")
    counted = Counted(page)
    counted.click(page.locator("#log-last-night"))
    page.wait_for_url(f"{server}/diary**")
    counted.fill(page.get_by_label(t(lang, "Minutes to fall asleep")), "35")
    counted.check(page.locator("#night-quality-4"))
    counted.click(page.get_by_role("button", name=t(lang, "Save the night")))
    page.locator("#diary-notice").wait_for()
    shot(page, f"diary-logged-{lang}")
    assert counted.interactions < 10
    stored = {night["date"]: night for night in person.get("/nights")}
    assert FIRST_DAY.isoformat() in stored, sorted(stored)
    night = stored[FIRST_DAY.isoformat()]
    assert (night["sleep_latency_min"], night["quality"]) == (35, 4)
    assert night["lights_out"] == "23:00"  # filled in from the profile's bedtime
    page.goto(f"{server}/?lang={lang}")
    assert page.locator("#log-last-night").count() == 0
    assert page.locator("#last-night").get_by_role("link").count() >= 1


# A file that is not the export it is said to be: the importer refuses all of it.
NOT_AN_EXPORT = DATA / "sleep_as_android" / "not-an-export.csv"
SOURCE = "sleep_as_android"


def _upload_a_file_that_fails(page: Any, server: str, lang: str) -> str:
    """Upload; the alert's text once it is on the page."""
    page.goto(f"{server}/import?lang={lang}")
    page.get_by_label(t(lang, "Where the file comes from")).select_option(SOURCE)
    page.get_by_label(t(lang, "Export file"), exact=False).set_input_files(NOT_AN_EXPORT)
    page.get_by_role("button", name=t(lang, "Import"), exact=True).click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    return str(alert.inner_text())


def _is_the_translated_refusal(message: str, lang: str) -> None:
    assert t(lang, "Nothing was imported:") in message
    assert SOURCE not in message  # the source's name, never its key
    if lang == "nl":  # translated, not the importer's English
        assert "not a Sleep as Android export" not in message, message


@pytest.mark.parametrize("lang", LANGS)
def test_an_import_that_fails_shows_its_message_without_script(
    server: str, browser: Any, lang: str
) -> None:
    page = new_page(browser, "phone", lang, java_script_enabled=False)
    try:
        Person(page, server, lang)
        _is_the_translated_refusal(_upload_a_file_that_fails(page, server, lang), lang)
        shot(page, f"import-failed-plain-{lang}", check=False)  # axe needs script
        assert person_nights(page, server) == []
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_an_import_that_fails_shows_its_message_in_place(server: str, page: Any, lang: str) -> None:
    Person(page, server, lang)
    with page.expect_request(lambda r: r.method == "POST") as sent:
        message = _upload_a_file_that_fails(page, server, lang)
    assert sent.value.headers.get("hx-request") == "true"  # htmx sent it: no reload
    _is_the_translated_refusal(message, lang)
    assert page.url.startswith(f"{server}/import")
    assert page.get_by_role("button", name=t(lang, "Import"), exact=True).is_visible()
    shot(page, f"import-failed-{lang}")
    assert person_nights(page, server) == []


def person_nights(page: Any, server: str) -> list[Any]:
    answer = page.request.get(f"{server}{API}/nights")
    assert answer.ok
    return list(answer.json())


@pytest.mark.parametrize("lang", LANGS)
def test_the_language_switch_keeps_the_questionnaire_step(
    server: str, page: Any, lang: str
) -> None:
    other = "nl" if lang == "en" else "en"
    sign_up(page, server, lang)
    page.get_by_label(t(lang, "Age")).fill("51")
    page.locator("#sex-female").check()
    page.get_by_role("button", name=t(lang, "Save and go on")).click()
    page.wait_for_url("**step=2**")
    heading = page.locator("main h1, main h2").first.inner_text()
    page.get_by_role("link", name="Nederlands" if other == "nl" else "English").click()
    page.wait_for_url("**step=2**")
    assert page.locator("html").get_attribute("lang") == other
    assert page.locator("main h1, main h2").first.inner_text() != heading or lang == other
    shot(page, f"profile-step2-switched-{other}")
    # The answers of step 1 are kept, in the other language too.
    page.goto(f"{server}/profile?step=1")
    assert page.get_by_label(t(other, "Age")).input_value() == "51"
    assert page.locator("#sex-female").is_checked()


@pytest.mark.parametrize("lang", LANGS)
def test_the_language_switch_keeps_what_was_typed_but_not_saved(
    server: str, page: Any, lang: str
) -> None:
    other = "nl" if lang == "en" else "en"
    sign_up(page, server, lang)
    # Typed, not saved: the switch is a link, so the page keeps the answers in this tab
    # (keep-input.js) and fills them in again in the other language.
    page.get_by_label(t(lang, "Age")).fill("63")
    page.locator("#sex-female").check()
    page.get_by_role("link", name="Nederlands" if other == "nl" else "English").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == other
    assert page.get_by_label(t(other, "Age")).input_value() == "63"
    assert page.locator("#sex-female").is_checked()
    # And after saving them, the step moves on in the other language.
    page.get_by_role("button", name=t(other, "Save and go on")).click()
    page.wait_for_url("**step=2**")
