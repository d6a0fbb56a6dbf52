"""/ingest/{source}: nights pushed by a phone app, with a token instead of a session.

Health Auto Export's REST automation (iOS) posts its JSON export here; an Android exporter
posts the file one of the other readers reads. The token (made on the account page) comes
in `Authorization: Bearer <token>`; there is no cookie, so no CSRF token either. The token
is checked, and the push counted, before a byte of the body is read; the body is then read
up to `max_ingest_kb`. The answer is the file import's summary (`ImportResult`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from mgsleep.diary.sources import SOURCES
from mgsleep.errors import InputError
from mgsleep.public import ImportResult, import_result
from mgsleep.service.ingest import TokenRefused, TooManyPushes, authorize_push, bearer_token
from mgsleep.service.ingest import import_push as import_pushed_export
from mgsleep.web.api.common import TooLarge, documented, open_router
from mgsleep.web.deps import EngineDep, SettingsDep, now
from mgsleep.web.guards import KB

router = open_router()

SourcePath = Annotated[
    str, Path(description="the app's format: " + ", ".join(SOURCES), max_length=40)
]


def _problem(error: InputError, headers: dict[str, str]) -> JSONResponse:
    status = int(getattr(error, "status_code", 422))
    return JSONResponse(status_code=status, content={"detail": error.as_dicts()}, headers=headers)


async def _body(request: Request, limit_bytes: int) -> bytes:
    """The body, refused (413) past `limit_bytes` whether or not the app said its length."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit_bytes:
        raise TooLarge("body", "too_large", limit=f"{limit_bytes // KB} kB")
    chunks: list[bytes] = []
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit_bytes:
            raise TooLarge("body", "too_large", limit=f"{limit_bytes // KB} kB")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/ingest/{source}",
    tags=["ingest"],
    response_model=ImportResult,
    responses=documented(401, 409, 413, 422, 429, as_problems=True),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the app's export, as it sends it (Health Auto Export: its JSON)",
            "content": {"application/json": {}, "text/csv": {}, "application/zip": {}},
        }
    },
)
async def ingest(
    request: Request,
    source: SourcePath,
    engine: EngineDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
) -> Response:
    """Import the nights an app pushes: the same summary as a file import. A night pushed
    again is stored once; a night the app has since completed replaces its earlier push."""
    try:
        token = bearer_token(authorization)
        owner_id = await run_in_threadpool(
            authorize_push,
            engine,
            token,
            now=now(),
            pushes_per_hour=settings.ingest_pushes_per_hour,
        )
    except TokenRefused as refused:
        return _problem(refused, {"WWW-Authenticate": "Bearer"})
    except TooManyPushes as busy:
        return _problem(busy, {"Retry-After": str(busy.retry_after_s)})
    body = await _body(request, settings.max_ingest_kb * KB)
    report = await run_in_threadpool(import_pushed_export, engine, owner_id, source, body)
    return JSONResponse(import_result(report).model_dump(mode="json"))
