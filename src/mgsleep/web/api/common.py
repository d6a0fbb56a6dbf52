"""What every API route shares: bounded bodies, the error shapes, the guarded router.

An error is always a list of problems `{field, reason, code, params, …}`; `reason` is the
English sentence, `code` and `params` are for programs. The service layer raises InputError
(422), NotFound (404) and Conflict (409); the app's handlers turn them into this shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile, status
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, Field

from mgsleep.clock import SaneDate, printable
from mgsleep.errors import InputError
from mgsleep.store.tables import SOURCE_MAX_LEN
from mgsleep.web.deps import check_api_csrf, current_user


class BoundedBodyRoute(APIRoute):
    """Every API route reads its body through `_BoundedJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            return await handler(_BoundedJSONRequest(request.scope, request.receive))

        return bounded


class _BoundedJSONRequest(Request):
    """A body the parsers choke on is bad input (a 422), not a crash or a bare 400."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except (RecursionError, UnicodeDecodeError):
            # Too deep for the parser's stack, or not UTF-8: either way not JSON we read.
            raise json.JSONDecodeError("not JSON: nested too deeply or not UTF-8", "", 0) from None


class ProblemDetail(BaseModel):
    field: str
    reason: str
    value: Any = None
    allowed: str | None = None
    line: int | None = None
    code: str = Field(default="invalid", description="the problem as a code, for programs")
    params: dict[str, Any] = Field(default_factory=dict, description="the values it names")


class Problems(BaseModel):
    detail: list[ProblemDetail]


class Message(BaseModel):
    detail: str


def documented(*codes: int, as_problems: bool = False) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route. 401, 403 and 429 carry a message, except where the route
    answers them as problems by code (`as_problems`: the token-authenticated push)."""
    models: dict[int, type[BaseModel]] = (
        {} if as_problems else {401: Message, 403: Message, 429: Message}
    )
    # Errors are JSON even where the success is a calendar, a CSV or a page.
    return {
        code: {"model": models.get(code, Problems), "content": {"application/json": {}}}
        for code in codes
    }


def open_router() -> APIRouter:
    """Routes anyone may call (signing up, logging in)."""
    return APIRouter(route_class=BoundedBodyRoute)


def guarded_router() -> APIRouter:
    """Routes for a logged-in person: a session, and its token for unsafe methods."""
    return APIRouter(
        route_class=BoundedBodyRoute,
        dependencies=[Depends(check_api_csrf), Depends(current_user)],
        responses=documented(401, 403, 422),
    )


def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The uploaded file, refused with 413 past `limit` bytes (the guard has capped the body)."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge("file", "too_large", limit=f"{limit // 1000} kB")
    return data


def read_text_upload(upload: UploadFile, limit: int) -> str:
    try:
        return read_upload(upload, limit).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError("file", "not_utf8") from error


class TooLarge(InputError):  # noqa: N818 - an outcome to report
    """An upload past its limit: 413."""

    status_code = status.HTTP_413_CONTENT_TOO_LARGE


SourceQuery = Annotated[
    str,
    Query(min_length=1, max_length=SOURCE_MAX_LEN, description="where the night came from"),
    AfterValidator(printable),
]
ReplaceQuery = Annotated[bool, Query(description="overwrite what is already stored")]
StartQuery = Annotated[
    SaneDate | None, Query(description="the first evening, YYYY-MM-DD (default: today)")
]
AsOfQuery = Annotated[
    SaneDate | None, Query(description="count nights up to this morning (default: today)")
]
