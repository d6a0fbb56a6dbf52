"""What every request meets before any route: body limits, upload gates, HEAD and OPTIONS,
and the security headers on every answer.

A pure ASGI middleware, so a body is refused before it is read: an oversized Content-Length
is answered 413 at once, and a body that grows past its limit while streaming stops the
request there. An upload (a wearable export can be hundreds of megabytes) is read only for a
logged-in session whose CSRF token came in a header or in the query string, so nobody can
make the server swallow a file without an account.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException
from starlette.routing import Match, Router

from mgsleep.security import same_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
KB = 1024
MB = 1024 * KB

# Pages and API in one policy: no inline script, nothing from another host, never in a frame.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The interactive API docs load Swagger UI's own script and styles.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; frame-ancestors 'none'"
)
# The trial report is one self-contained file (its CSS inline, its charts as data: images),
# made to be saved and mailed: it may style itself, but still runs no script.
REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


# A device export sent to the API (/api/v1/nights/import/{source}) is the upload page's file
# by another door: the same cap and the same gate. A push from a phone app
# (/api/v1/ingest/{source}) has no session: its route checks the app's token before it reads
# a byte, then reads the body with its own, smaller cap; here it gets the upload cap as an
# outer bound.
UPLOAD_PAGE_PATH = "/import"
DEVICE_IMPORT_PREFIX = "/api/v1/nights/import/"
INGEST_PREFIX = "/api/v1/ingest/"


@dataclass(frozen=True)
class Limits:
    default_bytes: int
    by_path: dict[str, int] = field(default_factory=dict)
    # Uploads: only for a logged-in session with its CSRF token outside the body.
    gated_paths: frozenset[str] = frozenset()
    csp_by_path: dict[str, str] = field(default_factory=dict)
    hsts: bool = False
    # Routes with a part in the address (a source): prefix -> cap, and the gated prefixes.
    by_prefix: dict[str, int] = field(default_factory=dict)
    gated_prefixes: tuple[str, ...] = ()

    def for_path(self, path: str) -> int:
        if path in self.by_path:
            return self.by_path[path]
        for prefix, limit in self.by_prefix.items():
            if path.startswith(prefix):
                return limit
        return self.default_bytes

    def gated(self, path: str) -> bool:
        return path in self.gated_paths or path.startswith(self.gated_prefixes)


def with_device_routes(limits: Limits) -> Limits:
    """The limits, with the device-import and push routes under the upload page's cap."""
    upload_bytes = limits.by_path.get(UPLOAD_PAGE_PATH, limits.default_bytes)
    by_prefix = {DEVICE_IMPORT_PREFIX: upload_bytes, INGEST_PREFIX: upload_bytes}
    return replace(
        limits,
        by_prefix={**by_prefix, **limits.by_prefix},
        gated_prefixes=(*limits.gated_prefixes, DEVICE_IMPORT_PREFIX),
    )


class RequestGuard:
    def __init__(self, app: ASGIApp, limits: Limits, router: Router) -> None:
        self.app = app
        self.limits = with_device_routes(limits)
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(scope, send)
        method = scope["method"]
        if method == "OPTIONS":
            await self._options(scope, receive, send)
            return
        if method == "HEAD":
            await self._head(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        limit = self.limits.for_path(scope["path"])
        await self.app(scope, _capped(receive, limit), send)

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        limit = self.limits.for_path(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return 413, f"the request body is larger than {limit // KB} kB", {}
        if scope["method"] == "POST" and self.limits.gated(scope["path"]):
            return _gate(scope)
        return None

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        """HEAD is GET without the body, for every GET route."""

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = {
            method
            for method in METHODS
            if any(
                route.matches({**scope, "method": method})[0] is Match.FULL
                for route in self.router.routes
            )
        }
        if not allowed:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(allowed | {"HEAD", "OPTIONS"}))
        await _answer(send, 204, "", {"allow": allow})

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        path = scope["path"]
        policy = next(
            (csp for prefix, csp in self.limits.csp_by_path.items() if path.startswith(prefix)),
            CSP,
        )

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                for name, value in _security_headers(policy, self.limits.hsts):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        return sending


def _security_headers(policy: str, hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


def _gate(scope: Scope) -> tuple[int, str, dict[str, str]] | None:
    """An upload needs a session and its CSRF token before a byte of it is read."""
    session = scope.get("session") or {}
    api = scope["path"].startswith("/api/")
    if not session.get("sid"):
        if api:
            return 401, "log in first", {}
        return 303, "", {"location": "/login?next=" + scope["path"]}
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    given = _header(scope, b"x-csrf-token") or (query.get("csrf_token") or [None])[0]
    if not same_token(session.get("csrf"), given):
        return 403, "missing or wrong CSRF token: reload the page", {}
    return None


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def receiving() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # An HTTPException passes through FastAPI's body parsing as the 413 it is.
                raise HTTPException(
                    status_code=413, detail=f"the request body is larger than {limit // KB} kB"
                )
        return message

    return receiving


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = b"" if not detail else ('{"detail": "' + detail.replace('"', "'") + '"}').encode()
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    if body:
        raw += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    else:
        raw.append((b"content-length", b"0"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
