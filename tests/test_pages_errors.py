"""Errors as people meet them on the pages: a page in their language with a way back, never
bare JSON or a crash; an impossible date is a field's problem."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.test_api import Person


@pytest.fixture
def app(web_app: FastAPI) -> FastAPI:
    return web_app


@pytest.mark.parametrize(
    ("lang", "title"), [("nl", "Deze pagina bestaat niet"), ("en", "This page does not exist")]
)
def test_an_unknown_page_is_a_page_in_the_persons_language(
    app: FastAPI, lang: str, title: str
) -> None:
    client = TestClient(app)
    response = client.get("/no-such-page", params={"lang": lang})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in response.text
    assert 'href="/"' in response.text


def test_an_unknown_api_address_stays_json(app: FastAPI) -> None:
    response = TestClient(app).get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["detail"][0]["code"] == "not_found"


def test_a_crash_is_a_page_that_says_so(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/boom", params={"lang": "en"})
    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert "a bug" not in page.text
    assert "Traceback" not in page.text


def test_an_expired_form_is_a_page(app: FastAPI) -> None:
    response = TestClient(app).post(
        "/login", data={"username": "x", "password": "y"}, params={"lang": "en"}
    )
    assert response.status_code == 403
    assert "This form has expired" in response.text


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30", "someday"])
def test_an_impossible_date_is_never_a_crash(app: FastAPI, day: str) -> None:
    person = Person(app)
    assert person.signup("anna").status_code == 201
    client = person.client
    assert client.get(f"/diary/{day}", params={"lang": "en"}).status_code == 404
    form = {
        "csrf_token": person.token,
        "date": day,
        "in_bed": "22:30",
        "lights_out": "22:45",
        "sleep_latency_min": "20",
        "final_wake": "06:30",
        "out_of_bed": "07:00",
    }
    saved = client.post("/diary", data=form, params={"lang": "en"})
    assert saved.status_code == 422
    assert "Enter a date" in saved.text
