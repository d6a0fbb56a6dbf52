"""A private PostgreSQL server for tests and benchmarks: started as the postgres user on a
Unix socket in a fresh folder, without fsync, and removed afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

POSTGRES_OS_USER = "postgres"
POSTGRES_START_TIMEOUT_S = 30
# Durability is irrelevant for a throwaway server; without fsync it starts and writes faster.
POSTGRES_FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def postgres_bin(name: str) -> str:
    found = sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return found[-1]  # the newest major version
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"{name} not found under /usr/lib/postgresql/*/bin or on PATH")
    return on_path


def as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", POSTGRES_OS_USER, "--", *command]
    return command


def run(command: list[str], folder: Path) -> None:
    # Run from the server's folder: the postgres user may not be allowed into ours.
    done = subprocess.run(
        as_postgres_user(command), cwd=folder, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout}")


def free_port() -> int:
    # The server listens on a Unix socket only; the port just names the socket file, but a
    # number no local server uses avoids any confusion with one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def private_folder() -> Path:
    # Not under pytest's tmp_path: its parents are private to root, so the postgres user
    # could not reach them.
    folder = Path(tempfile.mkdtemp(prefix="mgsleep-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, user=POSTGRES_OS_USER, group=POSTGRES_OS_USER)
    return folder


def start_postgres(folder: Path, port: int) -> None:
    data_dir = folder / "data"
    initdb = [postgres_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust"]
    run([*initdb, "-E", "UTF8", "--locale=C", "--no-sync"], folder)
    server_options = f"-c listen_addresses='' -k {folder} -p {port} {POSTGRES_FAST_OPTIONS}"
    pg_ctl = [postgres_bin("pg_ctl"), "-D", str(data_dir), "-l", str(folder / "server.log")]
    run([*pg_ctl, "-w", "-t", str(POSTGRES_START_TIMEOUT_S), "-o", server_options, "start"], folder)


def stop_postgres(folder: Path) -> None:
    run([postgres_bin("pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"], folder)


def server_log_tail(folder: Path) -> str:
    log = folder / "server.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def execute_autocommit(url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def unix_socket_url(folder: Path, port: int, database: str = "mgsleep") -> str:
    return f"postgresql+psycopg://postgres@/{database}?host={folder}&port={port}"
