"""Nights pushed by phone apps: tokens, the hourly count, and the import itself.

An app (Health Auto Export on an iPhone, an exporter on Android) posts its export to
POST /api/v1/ingest/{source} with a token from the account page. The token is shown once
and only its hash is stored. Checking it and counting the push happen in a short
transaction of their own, before the body is read: a failed import still counts against the
hour, and a stranger's body is never read. The import is the file import (`import_file`),
so a push is one transaction with the same summary; a night pushed twice is stored once.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from mgsleep.diary.imports import ImportReport
from mgsleep.errors import InputError, NotFound
from mgsleep.security import new_token, token_hash
from mgsleep.service.imports import import_file
from mgsleep.service.profile import person_zone
from mgsleep.store.db import session_scope
from mgsleep.store.repo import (
    StoredIngestToken,
    count_ingest_push,
    create_ingest_token,
    find_ingest_token,
    get_ingest_tokens,
    revoke_ingest_token,
)
from mgsleep.store.tables import INGEST_TOKEN_NAME_MAX_LEN

PUSH_WINDOW = timedelta(hours=1)
# The token is recognisable in a log or a settings screen, and never mistaken for a password.
TOKEN_PREFIX = "mgs_"  # noqa: S105 - a prefix, not a secret


class TokenRefused(InputError):  # noqa: N818 - an outcome to report, like NotFound
    """No token, a wrong one or a revoked one: 401."""

    status_code = 401


class TooManyPushes(InputError):  # noqa: N818 - an outcome to report, like NotFound
    """More pushes in the hour than the token may make: 429, and when to try again."""

    status_code = 429

    def __init__(self, limit: int, retry_after_s: int) -> None:
        super().__init__(
            "authorization",
            "too_many_pushes",
            limit=limit,
            minutes=max(1, math.ceil(retry_after_s / 60)),
        )
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class NewToken:
    """The token itself (shown once, never stored) and what is stored about it."""

    token: str
    stored: StoredIngestToken


def create_token(session: Session, owner_id: int, name: str, now: datetime) -> NewToken:
    clean = " ".join(name.split())
    if not clean:
        raise InputError("name", "token_name_needed")
    if len(clean) > INGEST_TOKEN_NAME_MAX_LEN:
        raise InputError("name", "string_too_long", max_length=INGEST_TOKEN_NAME_MAX_LEN)
    if any(ord(ch) < 32 for ch in clean):
        raise InputError("name", "control_character")
    token = TOKEN_PREFIX + new_token()
    stored = create_ingest_token(session, owner_id, clean, token_hash(token), now)
    return NewToken(token=token, stored=stored)


def tokens(session: Session, owner_id: int) -> list[StoredIngestToken]:
    return get_ingest_tokens(session, owner_id)


def revoke_token(session: Session, owner_id: int, token_id: int, now: datetime) -> None:
    if not revoke_ingest_token(session, owner_id, token_id, now):
        raise NotFound("token", "no_such_token")


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenRefused("authorization", "ingest_token_missing")
    return value.strip()


def authorize_push(engine: Engine, token: str, *, now: datetime, pushes_per_hour: int) -> int:
    """The owner of a working token, with this push counted; refused past the hour's limit."""
    with session_scope(engine) as session:
        stored = find_ingest_token(session, token_hash(token))
        if stored is None:
            raise TokenRefused("authorization", "ingest_token_wrong")
        if stored.revoked:
            raise TokenRefused("authorization", "ingest_token_revoked", hint="new_token")
        pushes, window_began = count_ingest_push(session, stored.id, now, now - PUSH_WINDOW)
    if pushes > pushes_per_hour:
        retry_after = window_began + PUSH_WINDOW - now
        raise TooManyPushes(pushes_per_hour, max(1, math.ceil(retry_after.total_seconds())))
    return stored.owner_id


def import_push(engine: Engine, owner_id: int, source: str, body: bytes) -> ImportReport:
    """The pushed export into the diary, as a file import in one transaction. A later push of
    a night the app has since completed replaces the app's earlier version of it (the app
    has the last word on its own nights); nights typed by hand are another source, never
    touched."""
    with session_scope(engine) as session:
        return import_file(
            session,
            owner_id,
            source,
            io.BytesIO(body),
            timezone=person_zone(session, owner_id),
            replace=True,
        )
