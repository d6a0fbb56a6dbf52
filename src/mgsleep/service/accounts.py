"""Accounts, log-in and sessions: what the pages and the API both do when someone logs in.

The slow step of a log-in (argon2, tens of milliseconds) runs outside any transaction, and
the write that follows is short, so many people logging in at once never hold the database's
write lock while a password is being checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mgsleep.security import (
    RATE_WINDOW,
    AttemptKeys,
    attempt_keys,
    device_token,
    hash_password,
    is_known_device,
    new_token,
    token_hash,
    verify_password,
)
from mgsleep.store.db import session_scope
from mgsleep.store.repo import (
    LOCAL_USERNAME,
    Account,
    UsernameTaken,
    clear_failed_logins,
    create_account,
    create_web_session,
    delete_account,
    end_web_session,
    end_web_sessions,
    failed_logins_since,
    find_account,
    find_web_session,
    forget_failed_logins_before,
    get_account,
    record_failed_login,
    set_password_hash,
    touch_web_session,
)

# Names the web cannot take: the CLI keeps its own diary under "local".
RESERVED_USERNAMES = frozenset({LOCAL_USERNAME})
# A session's last use is written at most this often: a write per page view would be waste.
TOUCH_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class LoginLimits:
    """Failures allowed in the window, per account and address, per account, per address."""

    pair: int = 5
    account: int = 20
    address: int = 50


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta = timedelta(days=7)
    absolute: timedelta = timedelta(days=30)


class AccessOutcome(StrEnum):
    ok = "ok"
    wrong = "wrong"
    too_many = "too_many"
    taken = "taken"


@dataclass(frozen=True)
class Access:
    """The outcome of signing up or logging in; on success the tokens for the cookies."""

    outcome: AccessOutcome
    account: Account | None = None
    session_token: str | None = None
    device_token: str | None = None


def binding(account: Account) -> str:
    """Ties sessions and known devices to the account as it is now: a new password (or an id
    that SQLite hands to someone new after a deletion) no longer matches."""
    return token_hash(f"{account.id}|{account.username}|{account.password_hash}")[:32]


def _counts(session: Session, keys: AttemptKeys, since: datetime) -> tuple[int, int, int]:
    return (
        failed_logins_since(session, keys.pair, since),
        failed_logins_since(session, keys.account, since),
        failed_logins_since(session, keys.address, since),
    )


def log_in(
    engine: Engine,
    username: str,
    password: str,
    *,
    client: str,
    device: str | None,
    secret: str,
    now: datetime,
    limits: LoginLimits | None = None,
) -> Access:
    limits = limits or LoginLimits()
    name = username.strip()
    if not _storable(name):
        return Access(AccessOutcome.wrong)
    keys = attempt_keys(name, client)
    with session_scope(engine, write=False) as session:
        account = find_account(session, name)
        pair, per_account, per_address = _counts(session, keys, now - RATE_WINDOW)
    known = account is not None and is_known_device(secret, device, account.id, binding(account))
    blocked_here = pair >= limits.pair or per_account >= limits.account
    if per_address >= limits.address or (blocked_here and not known):
        return Access(AccessOutcome.too_many)
    password_hash = account.password_hash if account is not None else None
    if account is None or not verify_password(password_hash, password):
        with session_scope(engine) as session:
            for key in (keys.pair, keys.account, keys.address):
                record_failed_login(session, key, now)
            forget_failed_logins_before(session, now - RATE_WINDOW)
        return Access(AccessOutcome.wrong)
    with session_scope(engine) as session:
        token = _new_session(session, account, now)
        if pair:
            clear_failed_logins(session, keys.pair)
    return Access(
        AccessOutcome.ok,
        account=account,
        session_token=token,
        device_token=device_token(secret, account.id, binding(account)),
    )


def sign_up(engine: Engine, username: str, password: str, *, secret: str, now: datetime) -> Access:
    name = username.strip()
    if name.casefold() in RESERVED_USERNAMES or not _storable(name):
        return Access(AccessOutcome.taken)
    password_hash = hash_password(password)  # slow: before the write lock, not inside it
    try:
        with session_scope(engine) as session:
            account = create_account(session, name, password_hash)
            token = _new_session(session, account, now)
    except (UsernameTaken, IntegrityError):
        # IntegrityError: two sign-ups for one name at the same moment; one of them wins.
        return Access(AccessOutcome.taken)
    return Access(
        AccessOutcome.ok,
        account=account,
        session_token=token,
        device_token=device_token(secret, account.id, binding(account)),
    )


def _storable(name: str) -> bool:
    # No control characters: PostgreSQL refuses NUL, and nobody's name has a tab.
    return not any(ord(ch) < 32 for ch in name)


def _new_session(session: Session, account: Account, now: datetime) -> str:
    token = new_token()
    create_web_session(session, account.id, token_hash(token), now)
    return token


def session_account(
    engine: Engine, token: str | None, *, now: datetime, rules: SessionRules | None = None
) -> Account | None:
    """The account a session token belongs to, while the session is alive."""
    if not token:
        return None
    rules = rules or SessionRules()
    digest = token_hash(token)
    with session_scope(engine, write=False) as session:
        stored = find_web_session(session, digest)
        account = None if stored is None else get_account(session, stored.owner_id)
    if stored is None or account is None:
        return None
    if now - stored.last_seen_at > rules.idle or now - stored.created_at > rules.absolute:
        end_session(engine, token)
        return None
    if now - stored.last_seen_at > TOUCH_EVERY:
        with session_scope(engine) as session:
            touch_web_session(session, digest, now)
    return account


def end_session(engine: Engine, token: str | None) -> None:
    if token:
        with session_scope(engine) as session:
            end_web_session(session, token_hash(token))


class PasswordOutcome(StrEnum):
    ok = "ok"
    wrong = "wrong"


def change_password(
    engine: Engine, account: Account, current: str, new: str, *, now: datetime
) -> tuple[PasswordOutcome, str | None]:
    """A new password ends every session of the account; the caller gets a fresh one."""
    if not verify_password(account.password_hash, current):
        return PasswordOutcome.wrong, None
    new_hash = hash_password(new)
    with session_scope(engine) as session:
        set_password_hash(session, account.id, new_hash)
        end_web_sessions(session, account.id)
        token = _new_session(session, account, now)
    return PasswordOutcome.ok, token


def delete_everything(session: Session, account: Account) -> None:
    """The account and all it owns, its sessions included."""
    delete_account(session, account.id)
