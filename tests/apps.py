"""The web app under test on a database of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


@contextmanager
def on_store(application: FastAPI, url: str) -> Iterator[FastAPI]:
    """`application` on the database at `url` while the block runs, then on its own again."""
    from mgsleep.store.db import open_store

    opened = application.state.engine
    application.state.engine = open_store(url)
    try:
        yield application
    finally:
        application.state.engine.dispose()
        application.state.engine = opened
