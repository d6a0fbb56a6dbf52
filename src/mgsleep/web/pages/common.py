"""Shared by every page: the renderer, CSRF for forms, the form reader, formatting."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from mgsleep.evidence import Evidence
from mgsleep.evidence.schema import Reference
from mgsleep.i18n import N_, Lang, format_number, translations
from mgsleep.store.repo import Account
from mgsleep.trial.labels import template_words
from mgsleep.web.deps import check_form_csrf, csrf_token

__all__ = [
    "NBSP",
    "NO_VALUE",
    "N_",
    "PRIVATE",
    "FormCsrf",
    "FormDep",
    "Gettext",
    "PostedFields",
    "download_headers",
    "formatters",
    "htmx_status",
    "page",
    "parse_count",
    "parse_date",
    "references_for_keys",
    "render",
    "render_fragment",
    "short_day",
]

FormCsrf = Depends(check_form_csrf)


templates = Environment(
    loader=PackageLoader("mgsleep.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship with the package and do not change while it runs: no stat on each render.
    auto_reload=False,
    extensions=["jinja2.ext.do"],
)


def render_fragment(name: str, lang: Lang, **context: Any) -> str:
    """A part of a page that is the same for everyone with the same inputs (no session, no
    token, no user): rendered once, then kept by the caller."""

    def num(template: str, *args: Any, **values: Any) -> str:
        return format_number(lang, template, *args, **values)

    return templates.get_template(name).render(
        _=translations(lang).gettext, num=num, lang=lang, **template_words(lang), **context
    )


def render(
    request: Request,
    name: str,
    lang: Lang,
    user: Account | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the reader's language; every template gets `_`, `num`, `csrf_token`, `user`."""
    gettext = translations(lang).gettext

    def num(template: str, *args: Any, **values: Any) -> str:
        return format_number(lang, template, *args, **values)

    def switch_to(other: Lang) -> str:
        """This page in the other language, its query (the step, a date) kept."""
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        return request.url.path + "?" + urlencode([*query, ("lang", other)])

    html = templates.get_template(name).render(
        _=gettext,
        num=num,
        lang=lang,
        user=user,
        csrf_token=csrf_token(request),
        path=request.url.path,
        switch_to=switch_to,
        **template_words(lang),
        **context,
    )
    # Pages carry personal health data: not kept by shared browsers or proxies.
    return HTMLResponse(html, status_code=status_code, headers=PRIVATE)


async def read_form(request: Request) -> FormData:
    """The submitted form, parsed once (the CSRF check has usually read it already)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


# Keeps a figure and its unit on one line in narrow table cells.
NBSP = "\u00a0"


def formatters(lang: Lang) -> dict[str, Any]:
    """Number and date helpers for templates, in the reader's language."""

    def mg(value: float | None, spec: str = ".0f") -> str:
        return (
            "—" if value is None else format_number(lang, "{0:" + spec + "}", value) + NBSP + "mg"
        )

    def pct(value: float | None, spec: str = ".0%") -> str:
        return "—" if value is None else format_number(lang, "{0:" + spec + "}", value)

    def span(low: float, high: float | None, spec: str = ".0f", unit: str = "mg") -> str:
        """'40–47 mg', or '47 mg' where both ends round to the same figure."""
        ends = [format_number(lang, "{0:" + spec + "}", v) for v in (low, high or low)]
        return (ends[0] if ends[0] == ends[1] else "–".join(ends)) + NBSP + unit

    def day(value: date) -> str:
        return format_date(value, format="long", locale=lang)

    def clock(value: datetime | time) -> str:
        return value.strftime("%H:%M")

    return {"mg": mg, "pct": pct, "span": span, "day": day, "clock": clock}


def references_for_keys(keys: Iterable[str], ev: Evidence) -> list[Reference]:
    known = {r.key: r for r in ev.references}
    return [known[key] for key in sorted(set(keys)) if key in known]


Gettext = Callable[[str], str]


NO_VALUE = "—"


# Personal health data: not kept by shared browsers or proxies.
PRIVATE = {"Cache-Control": "private, no-store"}


def short_day(lang: Lang, value: date) -> str:
    return format_date(value, "EEE d MMM y", locale=lang)


def page(
    request: Request,
    name: str,
    lang: Lang,
    user: Account | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    def day(value: date) -> str:
        return short_day(lang, value)

    return render(request, name, lang, user, status_code=status_code, day=day, **context)


def htmx_status(request: Request, code: int) -> int:
    """htmx swaps in only successful answers, and a form with its errors must still be shown."""
    return 200 if request.headers.get("HX-Request") else code


def download_headers(filename: str) -> dict[str, str]:
    return {**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'}


def parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def parse_count(text: str | None) -> int | None:
    try:
        return int(text or "")
    except ValueError:
        return None


async def posted_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


PostedFields = Annotated[dict[str, str], Depends(posted_fields)]
