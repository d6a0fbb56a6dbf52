"""Schemathesis over the OpenAPI schema, logged in, on SQLite and PostgreSQL: no input the
schema allows (or forbids) gives a server error, and every answer matches the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from mgsleep.web.app import create_app
from mgsleep.web.settings import Settings

# Enough to meet every operation's edge cases, few enough for a suite run.
EXAMPLES_PER_OPERATION = 25
# Cross-field rules (a night cannot end before it starts, a trial's phases must follow each
# other) cannot be written in OpenAPI, so a request the schema allows may still be refused
# with 422. Every other check runs.
EXCLUDED = [checks.positive_data_acceptance]

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def logged_in(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'schema.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    app = create_app(Settings(database_url=url, secret_key="x" * 40))
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/auth/signup", json={"username": "fuzzer", "password": "correct horse"}
        )
        cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        headers = {"X-CSRF-Token": answer.json()["csrf_token"], "Cookie": cookies}
        yield app, headers


def test_no_input_breaks_the_server_or_the_schema(
    logged_in: tuple[FastAPI, dict[str, str]],
) -> None:
    app, headers = logged_in
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        try:
            run()
        except Exception as error:
            failures.append(f"{operation.verbose_name}: {error}"[:2000])
    assert not failures, "\n\n".join(failures)
