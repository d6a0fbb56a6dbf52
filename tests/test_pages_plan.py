"""The profile, plan, label and evidence pages, driven through the app as a browser would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient

from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_today, seed_demo
from mgsleep.profile import (
    Approach,
    Budget,
    Complaint,
    Digestion,
    Preparation,
    Profile,
    Sex,
    Symptom,
)
from mgsleep.security import hash_password
from mgsleep.store.db import session_scope
from mgsleep.store.repo import find_account, get_profile, get_profile_progress
from mgsleep.web.pages import form_fields
from mgsleep.web.pages import questionnaire_steps as pages_plan

GO_ANSWERS: dict[int, dict[str, Any]] = {
    1: {"age": "47", "sex": "female"},
    2: {"kidney_disease": "no", "egfr": ""},
    3: {"medicine.name.0": "omeprazol", "medicine.times.0": "08:00"},
    4: {"supplement.name.0": "glycine", "supplement.dose.0": "1000"},
    5: {"complaints": ["falling_asleep"], "bedtime": "23:00", "insomnia_months": "6"},
    6: {
        "digestion": "normal",
        "approach": "simple",
        "budget": "medium",
        "preparation": "either",
        "bath": "yes",
        "region": "eu",
        "timezone": "Europe/Amsterdam",
    },
}
STOP_ANSWERS = {**GO_ANSWERS, 2: {"kidney_disease": "yes", "egfr": "25"}}
LABEL_YAML = """name: Sleep formula
servings_per_container: 60
price: 19.95
ingredients:
  - name: magnesium bisglycinate
    amount_mg: 1420
    basis: compound
  - name: L-theanine
    amount_mg: 100
"""
DUTCH_FOOTER = "mgsleep geeft informatie, geen medisch advies"
ENGLISH_FOOTER = "mgsleep gives information, not medical advice"


@pytest.fixture
def client(web_app: Any) -> Iterator[TestClient]:
    with TestClient(web_app) as test_client:
        yield test_client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no csrf_token on the page"
    return found.group(1)


def sign_up(client: TestClient, username: str = "ann") -> str:
    token = csrf(client.get("/signup").text)
    response = client.post(
        "/signup", data={"username": username, "password": "sleep-well-1", "csrf_token": token}
    )
    assert response.status_code == 200
    return csrf(client.get("/profile").text)


def answer(client: TestClient, token: str, step: int, data: dict[str, Any]) -> Any:
    return client.post(
        f"/profile?step={step}", data={**data, "csrf_token": token}, follow_redirects=False
    )


def fill_profile(client: TestClient, token: str, answers: dict[int, dict[str, Any]]) -> None:
    for step, data in answers.items():
        response = answer(client, token, step, data)
        assert response.status_code == 303, response.text
    assert response.headers["location"] == "/plan"


def stored_profile(client: TestClient, username: str = "ann") -> dict[str, Any] | None:
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        account = find_account(session, username)
        assert account is not None
        return get_profile(session, account.id)


def stored_progress(client: TestClient, username: str = "ann") -> list[int] | None:
    """The questionnaire's finished steps, kept beside the answers (None: complete)."""
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        account = find_account(session, username)
        assert account is not None
        return get_profile_progress(session, account.id)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the profile -------------------------------------------------------------------------------


def test_the_profile_steps_end_in_a_stored_profile(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    data = stored_profile(client)
    assert data is not None
    assert stored_progress(client) is None
    profile = Profile.model_validate(data)
    assert profile.age == 47
    assert profile.sex is Sex.female
    assert profile.kidney_disease is False
    assert [(m.name, [t.strftime("%H:%M") for t in m.times]) for m in profile.medicines] == [
        ("omeprazol", ["08:00"])
    ]
    assert [(s.name, s.dose_mg) for s in profile.supplements] == [("glycine", 1000.0)]
    assert profile.complaints == [Complaint.falling_asleep]
    assert profile.bedtime.strftime("%H:%M") == "23:00"
    assert profile.bath is True
    assert profile.insomnia_months == 6.0


def test_each_step_is_saved_as_you_go(client: TestClient) -> None:
    token = sign_up(client)
    response = answer(client, token, 1, GO_ANSWERS[1])
    assert response.headers["location"] == "/profile?step=2"
    data = stored_profile(client)
    assert data is not None
    assert data["age"] == 47
    assert stored_progress(client) == [1]
    # The form opens where the person left off, and the plan waits for the rest.
    assert "Your health" in client.get("/profile?lang=en").text
    plan = client.get("/plan").text
    assert 'href="/profile?step=2"' in plan
    assert "Safety first" not in plan


def test_answers_are_shown_again_when_a_step_is_revisited(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    html = client.get("/profile?step=3").text
    assert 'value="omeprazol"' in html
    assert 'value="08:00"' in html
    html = client.get("/profile?step=1").text
    assert 'value="47"' in html
    assert re.search(r'value="female"\s+checked', html)


def test_a_bad_answer_is_shown_next_to_its_field(client: TestClient) -> None:
    token = sign_up(client)
    response = answer(client, token, 1, {"age": "forty", "sex": "female"})
    assert response.status_code == 422
    assert 'id="error-age" role="alert"' in response.text
    assert 'aria-describedby="error-age"' in response.text
    assert stored_profile(client) is None


def test_pregnant_with_sex_male_is_refused_at_the_pregnancy_question(client: TestClient) -> None:
    token = sign_up(client)
    response = answer(client, token, 1, {"age": "30", "sex": "male", "pregnant": "yes"})
    assert response.status_code == 422
    assert 'id="error-pregnant" role="alert"' in response.text


def test_a_bad_medicine_time_is_shown_on_its_row(client: TestClient) -> None:
    token = sign_up(client)
    data = {"medicine.name.0": "omeprazol", "medicine.times.0": "25:00"}
    response = answer(client, token, 3, data)
    assert response.status_code == 422
    assert 'id="error-medicine-0" role="alert"' in response.text
    assert 'value="25:00"' in response.text  # what was typed stays, to be corrected
    assert response.text.count('name="medicine.name.') == 1 + pages_plan.BLANK_ROWS


def test_more_rows_without_javascript_and_with_htmx(client: TestClient) -> None:
    token = sign_up(client)
    data = {"medicine.name.0": "levothyroxine", "medicine.times.0": "7.30", "action": "more"}
    response = answer(client, token, 3, data)
    assert response.headers["location"] == "/profile?step=3"
    html = client.get("/profile?step=3").text
    assert 'value="levothyroxine"' in html
    assert 'value="07:30"' in html
    assert html.count('name="medicine.name.') == 1 + pages_plan.BLANK_ROWS
    row = client.get("/profile/row/medicine").text
    assert re.search(r'<label for="medicine-name-([0-9a-f]+)">.*id="medicine-name-\1"', row, re.S)


def test_the_last_step_names_the_steps_still_open(client: TestClient) -> None:
    token = sign_up(client)
    answer(client, token, 1, GO_ANSWERS[1])
    response = answer(client, token, 6, GO_ANSWERS[6])
    assert response.status_code == 422
    for step in (2, 3, 4, 5):
        assert f'href="/profile?step={step}"' in response.text
    data = stored_profile(client)
    assert data is not None
    assert stored_progress(client) == [1, 6]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("72,5", 72.5),
        ("72.5", 72.5),
        ("1.000", 1000.0),
        ("1,000", 1000.0),
        ("1.234,5", 1234.5),
        (" 250 ", 250.0),
        ("", None),
    ],
)
def test_numbers_are_read_as_people_type_them(typed: str, expected: float | None) -> None:
    assert form_fields.typed_number(typed) == expected


@pytest.mark.parametrize("typed", ["lots", "nan", "inf", "1,2,3"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - float() gives no more precise error
        form_fields.typed_number(typed)


@pytest.mark.parametrize(
    ("options", "enum"),
    [
        (pages_plan.SEX_OPTIONS, Sex),
        (pages_plan.COMPLAINT_OPTIONS, Complaint),
        (pages_plan.SYMPTOM_OPTIONS, Symptom),
        (pages_plan.DIGESTION_OPTIONS, Digestion),
        (pages_plan.APPROACH_OPTIONS, Approach),
        (pages_plan.BUDGET_OPTIONS, Budget),
        (pages_plan.PREPARATION_OPTIONS, Preparation),
    ],
)
def test_every_answer_the_profile_knows_can_be_chosen(options: Any, enum: Any) -> None:
    assert {value for value, _label in options} == set(enum)


# --- the plan --------------------------------------------------------------------------------


def test_without_a_profile_the_plan_points_to_it(client: TestClient) -> None:
    sign_up(client)
    html = client.get("/plan").text
    assert 'href="/profile?step=1"' in html
    assert client.get("/plan.ics", follow_redirects=False).headers["location"] == "/plan"


def test_a_stop_plan_shows_the_stop_first_and_no_dose(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, STOP_ANSWERS)
    html = client.get("/plan?lang=en").text
    findings = re.findall(r'class="finding (\w+)"', html)
    assert findings[0] == "stop"
    # The stop finding is the answer itself: in the first card, before anything folded.
    assert html.index('id="verdict-heading"') < html.index('class="finding stop"')
    assert html.index('class="finding stop"') < html.index('id="safety"')
    text = visible_text(html)
    assert "mg magnesium" not in text
    assert "Magnesium: " not in text
    assert "What to ask your doctor" in text
    assert "kidney specialist" in text
    assert 'href="/plan.ics"' not in html
    assert 'class="timeline"' not in html


def test_a_go_plan_shows_the_dose_the_timeline_and_sources(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    html = client.get("/plan?lang=en").text
    text = visible_text(html)
    assert "Verdict: GO" in text
    assert "Start with 200 mg magnesium" in text
    assert 'class="timeline"' in html
    assert "Lights out" in text
    assert re.search(r"22:00.{0,80}22:30.{0,20}Magnesium: 200 mg", html, re.S)
    assert 'href="/plan.ics"' in html
    assert 'href="/plan/print"' in html
    # Citations are numbered footnotes; each resolves to an entry on the sources page, and no
    # raw key such as [research_secondary] is left in the text.
    cited = set(re.findall(r'href="/plan/sources#ref-([a-z0-9_]+)"', html))
    sources = client.get("/plan/sources?lang=en").text
    listed = set(re.findall(r'<li id="ref-([a-z0-9_]+)"', sources))
    assert cited
    assert cited <= listed
    assert not re.search(r"\[[a-z0-9]+_[a-z0-9_]+\]", visible_text(html))
    assert not re.search(r"\[[a-z0-9]+_[a-z0-9_]+\]", visible_text(sources))


def test_the_plan_calendar_is_an_ics_download_for_the_trial(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    response = client.get("/plan.ics?lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"].startswith("attachment;")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    summaries = [str(event["summary"]) for event in events]
    assert any(s.startswith("Magnesium: 200 mg") for s in summaries)
    live = [event for event in events if event.get("status") != "CANCELLED"]
    assert all(event["rrule"]["count"] == [28] for event in live)
    assert all(event.walk("VALARM") for event in live)


def test_a_stop_plan_has_no_magnesium_in_its_calendar(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, STOP_ANSWERS)
    calendar = client.get("/plan.ics")
    assert calendar.status_code == 200
    assert "BEGIN:VEVENT" in calendar.text
    summaries = [line for line in calendar.text.splitlines() if line.startswith("SUMMARY")]
    assert summaries
    assert not any("magnesium" in line.lower() for line in summaries), summaries


def test_the_print_view_has_the_plan_without_the_menu(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    html = client.get("/plan/print?lang=en").text
    assert '<header class="site">' not in html
    assert "Start with 200 mg magnesium" in visible_text(html)
    assert "omeprazol (08:00)" in visible_text(html)


def test_the_demo_profile_makes_a_plan(client: TestClient) -> None:
    seed_demo(client.app.state.engine, hash_password(DEMO_PASSWORD))  # type: ignore[attr-defined]
    token = csrf(client.get("/login").text)
    client.post(
        "/login", data={"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    html = client.get("/plan?lang=en").text
    assert "Start with 200 mg magnesium" in visible_text(html)


# --- the label -------------------------------------------------------------------------------


def label_token(client: TestClient) -> str:
    return csrf(client.get("/label?lang=en").text)


def test_a_typed_label_is_analysed_logged_out(client: TestClient) -> None:
    token = label_token(client)
    data = {
        "csrf_token": token,
        "name": "Sleep formula",
        "servings": "60",
        "price": "19,95",
        "currency": "EUR",
        "ingredient.name.0": "magnesium bisglycinate",
        "ingredient.amount.0": "1420",
        "ingredient.basis.0": "compound",
        "ingredient.name.1": "L-theanine",
        "ingredient.amount.1": "100",
        "action": "analyse",
    }
    response = client.post("/label", data=data)
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Sleep formula" in text
    assert "200 mg" in text  # elemental magnesium in 1420 mg bisglycinate
    assert "share of the EU upper limit (250 mg) 80%" in text
    assert "0.33 EUR" in text  # per serving


def test_a_typed_label_with_an_unknown_ingredient_says_so_on_its_row(client: TestClient) -> None:
    token = label_token(client)
    data = {
        "csrf_token": token,
        "name": "X",
        "ingredient.name.0": "glycinex",
        "ingredient.amount.0": "100",
    }
    response = client.post("/label", data=data)
    assert response.status_code == 422
    assert 'id="error-ingredient-0" role="alert"' in response.text
    assert "Did you mean" in response.text


def test_a_label_row_is_added_without_javascript(client: TestClient) -> None:
    token = label_token(client)
    data = {"csrf_token": token, "ingredient.name.0": "glycine", "action": "add_row"}
    html = client.post("/label", data=data).text
    assert html.count('class="ingredient-row"') == 2
    assert 'value="glycine"' in html
    assert 'class="ingredient-row"' in client.get("/label/row?n=4").text


def test_an_uploaded_label_is_analysed(client: TestClient) -> None:
    token = label_token(client)
    files = {"document": ("label.yaml", LABEL_YAML.encode(), "text/yaml")}
    response = client.post("/label", data={"csrf_token": token}, files=files)
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Sleep formula" in text
    assert "200 mg" in text


def test_a_bad_upload_names_the_line(client: TestClient) -> None:
    token = label_token(client)
    bad = LABEL_YAML.replace("amount_mg: 100", "amount_mg: lots")
    files = {"document": ("label.yaml", bad.encode(), "text/yaml")}
    response = client.post("/label", data={"csrf_token": token}, files=files)
    assert response.status_code == 422
    line = bad.splitlines().index("    amount_mg: lots") + 1
    assert f"Line {line}, ingredients.1.amount_mg" in response.text


def test_an_upload_that_is_not_yaml_names_the_line(client: TestClient) -> None:
    token = label_token(client)
    files = {"document": ("label.json", b'{"name": "X",\n "ingredients": [\n', "application/json")}
    response = client.post("/label", data={"csrf_token": token}, files=files)
    assert response.status_code == 422
    assert "Line 3" in response.text


# --- evidence --------------------------------------------------------------------------------


def test_the_evidence_pages_render_logged_out(client: TestClient) -> None:
    index = client.get("/evidence?lang=en")
    assert index.status_code == 200
    assert 'href="/evidence/forms/bisglycinate"' in index.text
    assert 'href="/evidence/topics/l_theanine"' in index.text
    form = client.get("/evidence/forms/oxide")
    assert form.status_code == 200
    assert "The article says" in form.text
    assert "The research found" in form.text
    assert 'id="ref-abbasi2012"' in form.text
    topic = client.get("/evidence/topics/magnesium_sleep")
    assert topic.status_code == 200
    assert 'id="ref-article_nl"' in topic.text
    assert "Verdict:</strong> A fair summary on many points" in topic.text


def test_a_form_can_be_named_in_dutch(client: TestClient) -> None:
    assert client.get("/evidence/forms/magnesiumcitraat").status_code == 200


def test_unknown_evidence_pages_answer_404_with_the_index(client: TestClient) -> None:
    for url in ("/evidence/forms/unobtainium", "/evidence/topics/unobtainium"):
        response = client.get(url)
        assert response.status_code == 404
        assert 'role="alert"' in response.text
        assert 'href="/evidence/forms/oxide"' in response.text


# --- languages, CSRF, log-in -----------------------------------------------------------------

PAGES = [
    "/profile",
    *(f"/profile?step={n}" for n in range(2, 7)),
    "/plan",
    "/plan/print",
    "/label",
    "/evidence",
    "/evidence/forms/bisglycinate",
    "/evidence/topics/safety",
]


@pytest.mark.parametrize(("lang", "footer"), [("nl", DUTCH_FOOTER), ("en", ENGLISH_FOOTER)])
def test_every_page_answers_in_both_languages(client: TestClient, lang: str, footer: str) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    for page in PAGES:
        separator = "&" if "?" in page else "?"
        response = client.get(f"{page}{separator}lang={lang}")
        assert response.status_code == 200, page
        assert f'<html lang="{lang}">' in response.text, page
        assert footer in response.text, page


def test_the_plan_shows_core_text_in_dutch(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    text = visible_text(client.get("/plan?lang=nl").text)
    assert "Begin met 200 mg magnesium" in text
    assert "1,42 g" in text  # Dutch decimal comma
    assert "Licht uit" in text


@pytest.mark.parametrize("url", ["/profile?step=1", "/label"])
def test_a_post_without_the_csrf_token_is_refused(client: TestClient, url: str) -> None:
    sign_up(client)
    response = client.post(url, data={"age": "40", "sex": "female", "name": "X"})
    assert response.status_code == 403
    assert stored_profile(client) is None


@pytest.mark.parametrize(
    "url", ["/profile", "/profile?step=3", "/plan", "/plan.ics", "/plan/print"]
)
def test_pages_with_personal_data_need_a_log_in(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/p")


def test_a_profile_post_when_logged_out_goes_to_log_in(client: TestClient) -> None:
    token = label_token(client)
    response = answer(client, token, 1, GO_ANSWERS[1])
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile"


# --- what the screen needs from the form: amounts, courses, conditions -----------------------


def test_the_form_stores_magnesium_amounts_a_course_end_and_conditions(client: TestClient) -> None:
    token = sign_up(client)
    answers = {
        **GO_ANSWERS,
        2: {
            "kidney_disease": "no",
            "egfr": "",
            "other_conditions": "hoge bloeddruk\nhartfalen",
        },
        3: {
            "medicine.name.0": "Ciproxin 500 mg",
            "medicine.times.0": "08:00 20:00",
            "medicine.until.0": "2026-12-05",
            "medicine.name.1": "Rennie",
            "medicine.magnesium.1": "40",
        },
        4: {"supplement.name.0": "Centrum", "supplement.magnesium.0": "50"},
    }
    fill_profile(client, token, answers)
    profile = Profile.model_validate(stored_profile(client))
    assert profile.other_conditions == ["hoge bloeddruk", "hartfalen"]
    cipro, rennie = profile.medicines
    assert cipro.course_end == date(2026, 12, 5)
    assert rennie.magnesium_mg == 40
    assert profile.supplements[0].magnesium_mg == 50


def test_dialysis_typed_as_a_condition_stops_the_plan_page(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, {**GO_ANSWERS, 2: {**GO_ANSWERS[2], "other_conditions": "dialyse"}})
    page = visible_text(client.get("/plan?lang=en").text)
    assert "STOP" in page
    assert "Your kidneys remove magnesium" in page
    assert "Magnesium: 200 mg" not in page


def test_a_bad_course_end_is_shown_on_its_row(client: TestClient) -> None:
    token = sign_up(client)
    answer(client, token, 1, GO_ANSWERS[1])
    data = {"medicine.name.0": "doxycycline", "medicine.until.0": "31-02-2026"}
    response = answer(client, token, 3, data)
    assert response.status_code == 422
    assert 'id="medicine-0"' in response.text


def test_the_calendar_carries_the_medicine_windows(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(
        client,
        token,
        {**GO_ANSWERS, 3: {"medicine.name.0": "Tivicay", "medicine.times.0": "22:00"}},
    )
    calendar = icalendar.Calendar.from_ical(client.get("/plan.ics?lang=en").content)
    summaries = [str(event["summary"]) for event in calendar.walk("VEVENT")]
    assert "Tivicay" in summaries
    assert any(s.startswith("No magnesium: keep it apart from Tivicay") for s in summaries)
    assert any(s.startswith("Magnesium: 200 mg") for s in summaries)


# --- the plan and a running trial ------------------------------------------------------------


def _running_trial(client: TestClient, **changes: Any) -> None:
    from datetime import timedelta

    from mgsleep.store.repo import start_trial
    from mgsleep.trial.protocol import TrialProtocol

    first = demo_today() - timedelta(days=3)
    values = {"baseline_start": first, "magnesium_start": first + timedelta(days=14)}
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        account = find_account(session, "ann")
        assert account is not None
        start_trial(session, account.id, TrialProtocol.model_validate(values | changes))


def test_a_profile_change_that_alters_the_trial_asks_to_end_or_keep_it(
    client: TestClient,
) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    _running_trial(client, form="citrate", dose_mg=150)
    text = visible_text(client.get("/plan?lang=en").text)
    assert "Your answers changed what your trial tests" in text
    assert "Your trial tests 150 mg as citrate" in text
    # While the trial runs, tonight follows it: a baseline night, nothing to take.
    assert "No magnesium tonight: this is a night without it in your trial" in text
    form = {"csrf_token": csrf(client.get("/plan").text), "choice": "end"}
    ended = client.post("/plan/trial-choice", data=form, follow_redirects=False)
    assert ended.headers["location"] == "/plan?trial=ended"
    text = visible_text(client.get("/plan?lang=en&trial=ended").text)
    assert "Your trial has ended" in text
    assert "Start a trial (recommended)" in text
    assert client.get("/api/v1/trial").status_code == 404


def test_a_trial_that_matches_the_plan_asks_nothing(client: TestClient) -> None:
    token = sign_up(client)
    fill_profile(client, token, GO_ANSWERS)
    _running_trial(client, form="bisglycinate", dose_mg=200)
    text = visible_text(client.get("/plan?lang=en").text)
    assert "Your answers changed what your trial tests" not in text
    assert "Your trial is running" in text
