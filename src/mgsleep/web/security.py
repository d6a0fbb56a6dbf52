"""Passwords (argon2id), CSRF tokens and log-in rate limiting, kept in one place."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from mgsleep.store.repo import clear_failed_logins, failed_logins_since, record_failed_login

# argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile.
_hasher = PasswordHasher()
RATE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# Checked against when the user does not exist, so a wrong name costs as long as a wrong
# password and the response time does not tell which names exist.
_DUMMY_HASH = _hasher.hash("no such user")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _verify(_DUMMY_HASH, password)
        return False
    return _verify(password_hash, password)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def attempt_key(username: str, client: str) -> str:
    """A hash of who tries from where: enough to count, nothing personal stored."""
    return hashlib.sha256(f"{username.casefold()}|{client}".encode()).hexdigest()


def too_many_attempts(session: Session, key: str, limit: int, now: datetime | None = None) -> bool:
    moment = now or datetime.now(UTC)
    return failed_logins_since(session, key, moment - RATE_WINDOW) >= limit


def note_failure(session: Session, key: str, now: datetime | None = None) -> None:
    record_failed_login(session, key, now or datetime.now(UTC))


def note_success(session: Session, key: str) -> None:
    clear_failed_logins(session, key)
