"""What an outsider throws at the server: oversized bodies, forged headers, replayed cookies,
impossible dates, hostile documents. Each answer is a refusal with a reason, never a 500."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mgsleep.cli.serve import serve_settings
from mgsleep.diary.imports import Rejected, reader_for
from mgsleep.security import DEVICE_COOKIE
from mgsleep.web.app import SESSION_COOKIE, create_app
from mgsleep.web.settings import Settings

API = "/api/v1"
PASSWORD = "correct horse"
NIGHT: dict[str, Any] = {
    "date": "2026-01-15",
    "in_bed": "22:30",
    "lights_out": "22:45",
    "sleep_latency_min": 20,
    "final_wake": "06:30",
    "out_of_bed": "07:00",
}


def make_app(tmp_path: Path, **settings: Any) -> FastAPI:
    return create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/x.db", secret_key="x" * 40, **settings)
    )


@pytest.fixture
def app(web_app: FastAPI) -> FastAPI:
    return web_app


def signed_up(app: FastAPI, name: str = "anna") -> tuple[TestClient, str]:
    client = TestClient(app)
    answer = client.post(f"{API}/auth/signup", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return client, answer.json()["csrf_token"]


# ---- bodies: limits before parsing, uploads only for a session ---------------------------------


def test_an_oversized_body_is_refused_before_it_is_read(app: FastAPI) -> None:
    client = TestClient(app)
    big = b'{"username": "' + b"x" * (2 * 1024 * 1024) + b'", "password": "y"}'
    answer = client.post(
        f"{API}/auth/login", content=big, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]


def test_a_streamed_body_without_a_length_stops_at_the_limit(app: FastAPI) -> None:
    client = TestClient(app)

    def chunks() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(64):
            yield b"x" * 65536
        yield b'", "password": "y"}'

    answer = client.post(
        f"{API}/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


def test_an_upload_without_a_session_is_refused_unread(app: FastAPI) -> None:
    client = TestClient(app)
    files = {"file": ("x.json", b"[" * 10_000, "application/json")}
    page = client.post("/import", files=files, data={"source": "fitbit"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    api = client.post(f"{API}/nights/import", files={"file": ("d.csv", b"x", "text/csv")})
    assert api.status_code == 401


def test_an_upload_needs_the_csrf_token_outside_the_body(app: FastAPI) -> None:
    client, token = signed_up(app)
    files = {"file": ("d.csv", b"date\n", "text/csv")}
    inside_only = client.post("/import", files=files, data={"source": "csv", "csrf_token": token})
    assert inside_only.status_code == 403
    in_query = client.post(
        "/import",
        params={"csrf_token": token},
        files=files,
        data={"source": "csv", "csrf_token": token},
    )
    assert in_query.status_code == 422  # read, and refused for what it is: not a diary


def test_a_night_with_millions_of_side_effects_is_refused(app: FastAPI) -> None:
    client, token = signed_up(app)
    night = {**NIGHT, "side_effects": ["nausea"] * 100_000}
    body = json.dumps(night).encode()
    answer = client.post(
        f"{API}/nights",
        content=body,
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert answer.status_code in (413, 422)
    small = {**NIGHT, "side_effects": ["nausea"] * 50}
    answer = client.post(f"{API}/nights", json=small, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422


# ---- log-in limits: forwarded headers, accounts, known devices -----------------------------------


def test_rotating_x_forwarded_for_does_not_buy_more_guesses(app: FastAPI) -> None:
    signed_up(app)
    attacker = TestClient(app)
    codes = [
        attacker.post(
            f"{API}/auth/login",
            json={"username": "anna", "password": "wrong guess"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(7)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]


def test_forwarded_for_is_believed_from_a_trusted_proxy_only(tmp_path: Path) -> None:
    app = make_app(tmp_path, trusted_proxies=["10.0.0.0/8"])
    with TestClient(app, client=("10.1.2.3", 40000)) as proxy:
        signed_up(app)
        for n in range(5):
            wrong = {"username": "anna", "password": "wrong"}
            headers = {"X-Forwarded-For": "198.51.100.7"}
            assert proxy.post(f"{API}/auth/login", json=wrong, headers=headers).status_code in (
                401,
                429,
            ), n
        # Another client behind the same proxy is a different address.
        right = {"username": "anna", "password": PASSWORD}
        other = proxy.post(
            f"{API}/auth/login", json=right, headers={"X-Forwarded-For": "198.51.100.8"}
        )
        assert other.status_code in (200, 429)


def test_someone_elses_guesses_do_not_lock_out_a_known_device(app: FastAPI) -> None:
    owner, _token = signed_up(app)
    device = owner.cookies.get(DEVICE_COOKIE)
    assert device
    attacker = TestClient(app)
    for _ in range(6):
        attacker.post(f"{API}/auth/login", json={"username": "anna", "password": "guess"})
    stranger = TestClient(app)
    right = {"username": "anna", "password": PASSWORD}
    assert stranger.post(f"{API}/auth/login", json=right).status_code == 429
    returning = TestClient(app)
    returning.cookies.set(DEVICE_COOKIE, device)
    assert returning.post(f"{API}/auth/login", json=right).status_code == 200


def test_the_cli_user_name_cannot_be_taken_on_the_web(app: FastAPI) -> None:
    client = TestClient(app)
    answer = client.post(f"{API}/auth/signup", json={"username": "local", "password": PASSWORD})
    assert answer.status_code == 409
    answer = client.post(f"{API}/auth/signup", json={"username": "LOCAL", "password": PASSWORD})
    assert answer.status_code == 409


# ---- sessions end --------------------------------------------------------------------------------


def test_a_replayed_cookie_does_not_work_after_log_out(app: FastAPI) -> None:
    client, token = signed_up(app)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.get(f"{API}/auth/me").status_code == 200
    assert client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    replay = TestClient(app)
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert replay.get(f"{API}/auth/me").status_code == 401


def test_a_new_password_ends_every_other_session(app: FastAPI) -> None:
    first, token = signed_up(app)
    second = TestClient(app)
    assert (
        second.post(f"{API}/auth/login", json={"username": "anna", "password": PASSWORD})
    ).status_code == 200
    change = {"current_password": PASSWORD, "new_password": "a new long one"}
    answer = first.post(f"{API}/auth/password", json=change, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200
    assert first.get(f"{API}/auth/me").status_code == 200
    assert second.get(f"{API}/auth/me").status_code == 401
    wrong = {"current_password": "not it", "new_password": "another long one"}
    new_token = answer.json()["csrf_token"]
    refused = first.post(f"{API}/auth/password", json=wrong, headers={"X-CSRF-Token": new_token})
    assert refused.status_code == 401


def test_an_idle_session_expires(tmp_path: Path) -> None:
    app = make_app(tmp_path, session_idle_days=0.000001)
    with TestClient(app):
        client, _token = signed_up(app)
        import time

        time.sleep(0.2)
        assert client.get(f"{API}/auth/me").status_code == 401


# ---- settings the same whatever starts the app ---------------------------------------------


def test_serve_reads_the_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MGSLEEP_BASE_URL", "https://sleep.example.org")
    settings = serve_settings("127.0.0.1", 8000, f"sqlite:///{tmp_path}/s.db")
    assert settings.base_url == "https://sleep.example.org"
    assert settings.https
    monkeypatch.delenv("MGSLEEP_BASE_URL")
    assert serve_settings("0.0.0.0", 9000, None).base_url == "http://0.0.0.0:9000"  # noqa: S104


def test_an_https_base_url_makes_the_cookies_secure_and_sends_hsts(tmp_path: Path) -> None:
    app = make_app(tmp_path, base_url="https://sleep.example.org")
    with TestClient(app, base_url="https://testserver") as client:
        answer = client.post(f"{API}/auth/signup", json={"username": "anna", "password": PASSWORD})
        cookies = answer.headers.get_list("set-cookie")
        assert all("secure" in c.lower() for c in cookies), cookies
        assert "max-age=31536000" in answer.headers["strict-transport-security"]


# ---- headers, HEAD, OPTIONS -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", f"{API}/openapi.json", "/static/style.css"])
def test_every_answer_carries_the_security_headers(app: FastAPI, path: str) -> None:
    answer = TestClient(app).get(path)
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in answer.headers


def test_no_page_has_inline_script_or_style(app: FastAPI) -> None:
    client, _token = signed_up(app)
    for path in ("/", "/plan", "/diary", "/import", "/evidence", "/label", "/account"):
        html = client.get(path).text
        assert "<script>" not in html, path
        assert " style=" not in html, path


def test_head_and_options_answer_like_get(app: FastAPI) -> None:
    client = TestClient(app)
    head = client.head("/evidence")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0
    options = client.options(f"{API}/nights")
    assert options.status_code == 204
    assert {"GET", "POST"} <= set(options.headers["allow"].split(", "))
    assert client.options("/no/such/page").status_code == 404


# ---- impossible input: a field error, never a 500 ---------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "0", "1700000000"])
def test_an_impossible_date_is_a_field_error(app: FastAPI, day: str) -> None:
    client, token = signed_up(app)
    headers = {"X-CSRF-Token": token}
    night = client.post(f"{API}/nights", json={**NIGHT, "date": day}, headers=headers)
    assert night.status_code == 422, night.text
    assert client.get(f"{API}/nights/{day}").status_code in (404, 422)
    assert client.get(f"{API}/plan", params={"start": day}).status_code == 422
    assert client.get(f"{API}/schedule.ics", params={"start": day}).status_code == 422
    trial = {"baseline_start": day, "magnesium_start": "2026-01-15"}
    assert client.post(f"{API}/trial", json=trial, headers=headers).status_code == 422


def test_a_nul_character_is_a_field_error(app: FastAPI) -> None:
    client, token = signed_up(app)
    answer = client.post(
        f"{API}/nights", json={**NIGHT, "notes": "a\x00b"}, headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 422
    profile = {"age": 40, "sex": "female", "medicines": [{"name": "x\x00y"}]}
    answer = client.put(f"{API}/profile", json=profile, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422


def test_deeply_nested_json_is_refused(app: FastAPI) -> None:
    client, token = signed_up(app)
    deep = "[" * 50_000 + "]" * 50_000
    answer = client.post(
        f"{API}/label",
        content=deep,
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text


def test_a_yaml_alias_bomb_is_refused(app: FastAPI) -> None:
    client, token = signed_up(app)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    bomb += "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nname: [*c, *c, *c, *c, *c, *c]\n"
    answer = client.post(
        f"{API}/label/upload",
        files={"file": ("label.yaml", bomb.encode(), "text/yaml")},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 422
    assert "alias" in answer.text


def test_deeply_nested_json_in_an_export_is_one_rejection() -> None:
    read = reader_for("fitbit")
    items = list(read(io.BytesIO(b"[" * 100_000 + b"]" * 100_000), "Europe/Amsterdam"))
    assert len(items) == 1
    assert isinstance(items[0], Rejected)
    assert items[0].position == "file"


def test_a_sleep_as_android_zip_bomb_is_refused_unpacked() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sleep-export.csv", b"Id,Tz,From,To\n" + b"0" * (50 * 1024 * 1024))
    buffer.seek(0)
    items = list(reader_for("sleep_as_android")(buffer, "Europe/Amsterdam"))
    assert len(items) == 1
    assert isinstance(items[0], Rejected)
    assert "zip bomb" in items[0].reason


def test_a_csv_cell_beyond_the_csv_modules_limit_is_a_field_error(app: FastAPI) -> None:
    client, token = signed_up(app)
    text = "date,in_bed,lights_out,sleep_latency_min,final_wake,out_of_bed,notes\n"
    text += "2026-01-15,22:30,22:45,20,06:30,07:00," + "x" * 200_000 + "\n"
    answer = client.post(
        f"{API}/nights/import",
        files={"file": ("d.csv", text.encode(), "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_a_device_night_in_an_impossible_year_is_one_rejected_record(year: str) -> None:
    record = {
        "logId": 1,
        "dateOfSleep": f"{year}-12-31",
        "startTime": f"{year}-12-30T23:09:00.000",
        "endTime": f"{year}-12-31T07:33:30.000",
        "duration": 30240000,
        "minutesToFallAsleep": 0,
        "minutesAsleep": 438,
        "minutesAwake": 66,
        "timeInBed": 504,
        "efficiency": 86,
        "type": "classic",
        "mainSleep": True,
        "levels": {"summary": {}, "data": []},
    }
    fitbit = list(reader_for("fitbit")(io.BytesIO(json.dumps([record]).encode()), "UTC"))
    xml = (
        '<?xml version="1.0"?>\n<HealthData locale="en_US">\n'
        '<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="W" '
        f'startDate="{year}-12-31 01:00:00 +0100" endDate="{year}-12-31 07:00:00 +0100" '
        'value="HKCategoryValueSleepAnalysisAsleepCore"/>\n</HealthData>\n'
    ).encode()
    apple = list(reader_for("apple_health")(io.BytesIO(xml), "UTC"))
    for items in (fitbit, apple):
        [item] = items
        assert isinstance(item, Rejected)
        assert "1900" in item.reason
