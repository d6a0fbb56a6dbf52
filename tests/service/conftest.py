"""Service tests run against a real store on both backends, one transaction per step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import local_user_id


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    store = open_store(store_url)
    yield store
    store.dispose()


@pytest.fixture
def owner(engine: Engine) -> int:
    with session_scope(engine) as session:
        return local_user_id(session)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_scope(engine) as opened:
        yield opened
