"""Passwords (argon2id), CSRF and session tokens, log-in limits and known devices (no I/O).

Log-in limits count failures three ways, each in a 15-minute window:
- per account and address: a guesser at one address is stopped after a few tries;
- per account, from anywhere: a guesser rotating addresses is stopped too;
- per address, over all accounts: one address spraying many names is stopped.
A browser that logged in to an account before carries a signed "known device" cookie; it is
not stopped by the per-account limits, so someone else's guessing does not lock the real
person out (the per-address limit still applies to it).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer

RATE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
# argon2 hashes any length, but a megabyte of "password" is an attack, not a password.
MAX_PASSWORD_LENGTH = 1024
DEVICE_COOKIE = "mgsleep_device"
DEVICE_COOKIE_DAYS = 365

# argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile.
_hasher = PasswordHasher()


def use_hasher(hasher: PasswordHasher) -> None:
    """Tests use a cheap hasher; a person's password never does."""
    global _hasher
    _hasher = hasher
    _dummy_hash.cache_clear()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    # Checked against when the user does not exist, so a wrong name costs as long as a wrong
    # password. Made on first use, not at import: every command would pay for it otherwise.
    return _hasher.hash("no such user")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _verify(_dummy_hash(), password)
        return False
    return _verify(password_hash, password)


def new_token() -> str:
    return secrets.token_urlsafe(32)


new_csrf_token = new_token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@dataclass(frozen=True)
class AttemptKeys:
    """Hashes of who tries from where: enough to count, nothing personal stored."""

    pair: str
    account: str
    address: str


def attempt_keys(username: str, client: str) -> AttemptKeys:
    name = username.casefold()

    def digest(kind: str, value: str) -> str:
        return hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()

    return AttemptKeys(
        pair=digest("pair", f"{name}|{client}"),
        account=digest("account", name),
        address=digest("address", client),
    )


def device_token(secret: str, account_id: int, binding: str) -> str:
    """A signed token saying this browser logged in to this account (as it is now)."""
    return URLSafeSerializer(secret, salt="device").dumps([account_id, binding])


def is_known_device(secret: str, token: str | None, account_id: int, binding: str) -> bool:
    if not token:
        return False
    try:
        value = URLSafeSerializer(secret, salt="device").loads(token)
    except BadSignature:
        return False
    return bool(value == [account_id, binding])
