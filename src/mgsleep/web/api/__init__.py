"""The JSON API at /api/v1: the core's answers as typed JSON, for one logged-in person.

Every query passes the logged-in person's id, so changing a date or a key in the address can
only ever reach their own data. Unsafe methods carry the session's token in the X-CSRF-Token
header (GET /auth/me gives it). Sentences from the core come in the reader's language (?lang=,
else Accept-Language) where the API composes the answer (findings, timeline, ISI bands), and
as {nl, en} pairs inside the core's own models (plan, label report, analysis, evidence).
One module per resource; each route parses, calls one service function, and answers with a
schema of `mgsleep.public`.
"""

from __future__ import annotations

from fastapi import APIRouter

from mgsleep.web.api import auth, evidence, ingest, isi, nights, plan, privacy, today, trial
from mgsleep.web.api.common import BoundedBodyRoute

router = APIRouter(route_class=BoundedBodyRoute)
for module in (auth, plan, today, nights, isi, trial, evidence, privacy, ingest):
    for part in ("router", "guarded"):
        if hasattr(module, part):
            router.include_router(getattr(module, part))
