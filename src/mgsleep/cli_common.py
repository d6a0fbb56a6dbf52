"""What every `mgsleep` command shares: options, language, output, errors for people."""

from __future__ import annotations

import json
import sys
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from mgsleep.clock import parse_clock
from mgsleep.errors import InputError
from mgsleep.i18n import Lang, Text, default_lang, format_number, translations


class InputErrorGroup(TyperGroup):
    """Turns a person's mistake into one clear line on stderr and exit code 2, no traceback."""

    def invoke(self, ctx: Any) -> Any:  # the base class types it with a private Context
        try:
            return super().invoke(ctx)
        except InputError as error:
            # No wrapping: scripts read this line, and a broken line breaks a grep.
            Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(error))}")
            raise typer.Exit(code=2) from error


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Marks a word for the catalog whose value arrives at run time (a level or a route)."""
    return message


CATALOG_WORDS = (
    N_("low"),
    N_("moderate"),
    N_("high"),
    N_("unknown"),
    N_("oral"),
    N_("bath"),
    N_("stop"),
    N_("caution"),
    N_("info"),
    N_("go"),
    N_("very_low"),
)


class LangChoice(StrEnum):
    nl = "nl"
    en = "en"


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
LangOption = Annotated[
    LangChoice | None,
    typer.Option("--lang", help="Language for people: nl or en (default: from the locale)."),
]


class View:
    """What a command needs to speak: the language, a console and the translations."""

    def __init__(self, lang: LangChoice | None) -> None:
        self.lang: Lang = (
            default_lang() if lang is None else ("nl" if lang is LangChoice.nl else "en")
        )
        self.console = Console(highlight=False)
        self._ = translations(self.lang).gettext

    def text(self, text: Text | None) -> str:
        return "" if text is None else escape(text.get(self.lang))

    def fmt(self, template: str, **values: Any) -> str:
        """A translated template with numbers in the reader's notation."""
        return format_number(self.lang, self._(template), **values)

    def mg(self, value: float | None) -> str:
        return "—" if value is None else format_number(self.lang, "{0:,.0f} mg", value)

    def mg_range(self, low: float, high: float) -> str:
        if round(low) == round(high):
            return self.mg(low)
        return format_number(self.lang, "{0:,.0f}–{1:,.0f} mg", low, high)

    def pct(self, value: float | None, digits: int = 0) -> str:
        return "—" if value is None else format_number(self.lang, f"{{0:.{digits}%}}", value)

    def percent_range(self, low: float, high: float | None) -> str:
        if high is None or low == high:
            return format_number(self.lang, "{0:.1f}%", low)
        return format_number(self.lang, "{0:.1f}–{1:.1f}%", low, high)

    def cite(self, keys: list[str]) -> str:
        return "[dim]" + escape("[" + ", ".join(keys) + "]") + "[/]" if keys else ""


def print_json(data: Any) -> None:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: MGSLEEP_DATABASE_URL, else SQLite in the user data folder).",
    ),
]


def read_document(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError as error:
        raise InputError("FILE", "no such file", value=str(path)) from error
    except (UnicodeDecodeError, IsADirectoryError) as error:
        raise InputError("FILE", "not a UTF-8 text file", value=str(path)) from error


def clock_option(value: str, field: str) -> time:
    try:
        return parse_clock(value)
    except ValueError as error:
        raise InputError(field, str(error), value=value) from error


def date_option(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InputError(field, "expected a date YYYY-MM-DD", value=value) from error
