"""Alembic owns the schema: one chain of revisions that builds, matches and unbuilds it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from mgsleep.store.db import HEAD_REVISION, alembic_config, make_engine, migrate, open_store
from mgsleep.store.tables import metadata

ALEMBIC_VERSION_TABLE = "alembic_version"
# Like several app servers, or a CLI command and the web app, starting at the same moment.
STARTING_TOGETHER = 4


@pytest.fixture
def empty_engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {ALEMBIC_VERSION_TABLE}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_revisions_form_one_chain_with_a_single_head():
    scripts = ScriptDirectory.from_config(alembic_config())
    heads = scripts.get_heads()
    assert len(heads) == 1
    every_revision = {script.revision: script for script in scripts.walk_revisions()}
    chain: list[str] = []
    revision: str | None = heads[0]
    while revision is not None:
        down = every_revision[revision].down_revision
        assert down is None or isinstance(down, str), f"{revision} merges branches"
        chain.append(revision)
        revision = down
    # Every revision file is reached from the head: none dangles on a branch of its own.
    assert sorted(chain) == sorted(every_revision)


def test_the_known_head_is_alembics_head():
    """A database at HEAD_REVISION is opened without Alembic: the constant must be the head."""
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD_REVISION]


def test_upgrade_creates_every_table_and_matches_the_models(empty_engine: Engine):
    migrate(empty_engine)
    assert table_names(empty_engine) == set(metadata.tables)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_the_newest_revision_downgrades_and_upgrades_again(empty_engine: Engine):
    migrate(empty_engine)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(empty_engine) == head
    with empty_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "-1")
    if current_revision(empty_engine) is None:  # the newest revision was the first
        assert table_names(empty_engine) == set()
    migrate(empty_engine)
    assert current_revision(empty_engine) == head
    assert table_names(empty_engine) == set(metadata.tables)


def test_opening_the_store_again_changes_nothing(store_url: str):
    for _ in range(2):
        engine = open_store(store_url)
        assert table_names(engine) == set(metadata.tables)
        engine.dispose()


def open_and_list_tables(url: str) -> set[str]:
    engine = open_store(url)
    try:
        return table_names(engine)
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_once(store_url: str):
    # Processes, not threads: that is how app servers start, and Alembic keeps its migration
    # context in module globals, which threads would share.
    with ProcessPoolExecutor(max_workers=STARTING_TOGETHER) as pool:
        seen = list(pool.map(open_and_list_tables, [store_url] * STARTING_TOGETHER))
    assert seen == [set(metadata.tables)] * STARTING_TOGETHER
