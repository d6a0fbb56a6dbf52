"""Where the data lives and how a unit of work reaches it.

SQLite (a file in the user's data folder) is the default; PostgreSQL is chosen by URL for a
hosted, multi-user deployment. The schema is owned by Alembic alone: `open_store` brings any
database to the newest revision, so every shell can call it at start.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from mgsleep.errors import InputError

if TYPE_CHECKING:
    from alembic.config import Config

DATABASE_URL_ENV = "MGSLEEP_DATABASE_URL"
# The newest migration. A database already there is opened without loading Alembic (a third
# of a second on every command); tests/test_migrations.py checks this is Alembic's head.
HEAD_REVISION = "0008"
DATABASE_FILENAME = "mgsleep.db"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# A CLI command and the web app may write at the same moment; waiting this long for the
# other's lock is better than failing with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30.0

# psycopg 3 is the driver we ship; bare PostgreSQL URLs (as hosting providers hand them out)
# would otherwise make SQLAlchemy look for psycopg2.
_POSTGRES_PREFIXES = ("postgresql://", "postgres://")
_POSTGRES_DRIVER_PREFIX = "postgresql+psycopg://"
_KNOWN_PREFIXES = ("sqlite://", "sqlite+pysqlite://", "postgresql+psycopg://")

# Read by the SQLite "begin" hook: migrations take the write lock up front so two processes
# starting together cannot both decide to create the same tables.
_SQLITE_BEGIN_OPTION = "mgsleep_sqlite_begin"

# Any fixed number works; it only has to be the same for every process migrating one database.
_MIGRATION_LOCK_KEY = 0x6D67_736C


def default_database_url() -> str:
    folder = Path(platformdirs.user_data_dir("mgsleep"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DATABASE_FILENAME}"


def database_url(explicit: str | None) -> str:
    """The explicit URL, else the environment's, else the SQLite file in the data folder.

    A plain path (what people type: `--db ~/sleep.db`) is a SQLite file; an address of a
    database this program cannot open is refused with `unknown_database`, not a traceback."""
    from_env = os.environ.get(DATABASE_URL_ENV)
    url = explicit or from_env or default_database_url()
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in _POSTGRES_PREFIXES:
        if url.startswith(prefix):
            return _POSTGRES_DRIVER_PREFIX + url.removeprefix(prefix)
    if not url.startswith(_KNOWN_PREFIXES):
        field = "--db" if explicit else DATABASE_URL_ENV
        # Only the scheme is echoed: the rest of an address may hold a password.
        raise InputError(field, "unknown_database", value=url.split("://", 1)[0] + "://")
    return url


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # Hosted databases drop idle connections; checking before use avoids a failed request.
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # The sqlite3 module only opens a transaction before INSERT/UPDATE/DELETE, so reads and
    # DDL would escape it; we take over BEGIN (see `_on_sqlite_begin`) to get real transactions.
    dbapi_connection.isolation_level = None
    # SQLite ignores foreign keys (and ON DELETE CASCADE) unless asked, per connection.
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    # Write-ahead logging: readers never wait for the writer, nor the writer for readers. It
    # is a property of the file, kept once set; an in-memory database answers "memory".
    dbapi_connection.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL is safe against corruption; a power cut may lose the last commit only.
    dbapi_connection.execute("PRAGMA synchronous = NORMAL")


def _on_sqlite_begin(connection: Connection) -> None:
    begin = connection.get_execution_options().get(_SQLITE_BEGIN_OPTION, "BEGIN")
    connection.exec_driver_sql(begin)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration built in code, so no alembic.ini has to ship or be found."""
    from alembic.config import Config

    config = Config()
    # The value passes through configparser interpolation, which treats "%" as special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in version] == [HEAD_REVISION]
    except DBAPIError:  # no such table yet: a new database
        return False


def migrate(engine: Engine) -> None:
    """Upgrade to the newest revision in one transaction; a no-op when already there."""
    if _at_head(engine):
        return
    from alembic import command

    with engine.connect() as connection, _sqlite_foreign_keys_off(connection):
        connection.execution_options(**{_SQLITE_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with connection.begin():
            _lock_against_concurrent_migration(connection)
            command.upgrade(alembic_config(connection), "head")
            _check_sqlite_foreign_keys(connection)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite migrations rebuild tables by copy-and-drop; with foreign keys on, dropping a
    parent table cascades and deletes its children's rows. The pragma only takes effect
    outside a transaction, hence on the driver connection before BEGIN."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        raise TypeError(f"expected the sqlite3 driver, got {type(driver).__name__}")
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left rows pointing at nothing: {broken[:5]}")


def _lock_against_concurrent_migration(connection: Connection) -> None:
    # Several app servers may start at once against one PostgreSQL; the lock is held until
    # the transaction ends. SQLite serialises through BEGIN IMMEDIATE instead.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})


def open_store(url: str | None = None) -> Engine:
    engine = make_engine(database_url(url))
    migrate(engine)
    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any exception.

    A writing transaction on SQLite takes the write lock when it begins (BEGIN IMMEDIATE), so
    it waits for another writer instead of failing halfway when a read turns into a write
    ("database is locked"). Read-only work passes write=False and never waits: in WAL mode
    readers see the last commit while a writer works. PostgreSQL needs neither.
    """
    bound = (
        engine.execution_options(**{_SQLITE_BEGIN_OPTION: "BEGIN IMMEDIATE"}) if write else engine
    )
    with Session(bound) as session, session.begin():
        yield session
