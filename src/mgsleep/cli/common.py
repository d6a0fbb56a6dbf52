"""What every `mgsleep` command shares: options, language, output, errors for people.

Nothing heavy is imported here or at the top of a command module: `mgsleep --help` and the
commands that only compute (dose, plan) start in a fraction of a second. The database, the
web server and the statistics are imported inside the commands that use them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer's own click
from typer.core import TyperGroup

from mgsleep.errors import InputError
from mgsleep.lang import N_, Lang, default_lang, parse_lang

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mgsleep.i18n import Text

LANG_WORDS = "mgsleep_lang_words"


def lang_in(words: Sequence[str]) -> Lang:
    """The language a command line asks for (`--lang nl`, `--lang=nl`), else the locale's:
    an error must be in the language the person chose, even when it stops the command early."""
    for index, word in enumerate(words):
        value = None
        if word == "--lang" and index + 1 < len(words):
            value = words[index + 1]
        elif word.startswith("--lang="):
            value = word.removeprefix("--lang=")
        chosen = parse_lang(value)
        if chosen is not None:
            return chosen
    return default_lang()


def _error_line(text: str) -> None:
    # No wrapping: scripts read this line, and a broken line breaks a grep.
    Console(stderr=True, soft_wrap=True, highlight=False).print(
        f"[bold red]error:[/] {escape(text)}"
    )


class InputErrorGroup(TyperGroup):
    """Turns a person's mistake into one clear line on stderr and exit code 2, no traceback
    and no box: a bad option (`--lang de`) reads the same way as a bad value in a file."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typed with a private Context
        ctx.meta.setdefault(LANG_WORDS, list(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as error:
            _error_line(error.text(lang_in(ctx.meta.get(LANG_WORDS, []))))
            raise typer.Exit(code=2) from error

    def main(  # type: ignore[override]  # the same call, with standalone_mode handled here
        self, args: Sequence[str] | None = None, *, standalone_mode: bool = True, **kwargs: Any
    ) -> Any:
        if not standalone_mode:
            return super().main(args, standalone_mode=False, **kwargs)
        try:
            code = super().main(args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as error:
            from typer import rich_utils

            rich_utils.rich_format_error(error)
            sys.exit(error.exit_code)
        except ClickException as error:
            context = getattr(error, "ctx", None)
            where = f" (see {context.command_path} --help)" if context is not None else ""
            # typer passes on pydantic's "Value error, " prefix; the person needs what follows.
            _error_line(error.format_message().replace("Value error, ", "") + where)
            sys.exit(error.exit_code)
        except typer.Abort:
            _error_line("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


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
        from mgsleep.i18n import translations

        self._ = translations(self.lang).gettext

    def text(self, text: Text | None) -> str:
        return "" if text is None else escape(text.get(self.lang))

    def number(self, template: str, *args: Any, **values: Any) -> str:
        """An untranslated template with numbers in the reader's notation (1,5 in Dutch)."""
        from mgsleep.i18n import format_number

        return format_number(self.lang, template, *args, **values)

    def fmt(self, template: str, **values: Any) -> str:
        """A translated template with numbers in the reader's notation."""
        return self.number(self._(template), **values)

    def mg(self, value: float | None) -> str:
        return "—" if value is None else self.number("{0:,.0f} mg", value)

    def mg_range(self, low: float, high: float) -> str:
        if round(low) == round(high):
            return self.mg(low)
        return self.number("{0:,.0f}–{1:,.0f} mg", low, high)

    def pct(self, value: float | None, digits: int = 0) -> str:
        return "—" if value is None else self.number(f"{{0:.{digits}%}}", value)

    def percent_range(self, low: float, high: float | None) -> str:
        if high is None or low == high:
            return self.number("{0:.1f}%", low)
        return self.number("{0:.1f}–{1:.1f}%", low, high)

    def cite(self, keys: list[str]) -> str:
        return "[dim]" + escape("[" + ", ".join(keys) + "]") + "[/]" if keys else ""


def print_json(data: Any) -> None:
    from pydantic import BaseModel

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


def read_bytes(path: Path, *, limit: int | None = None, field: str = "FILE") -> bytes:
    try:
        if limit is not None and path.stat().st_size > limit:
            raise InputError(field, "too_large", value=str(path), limit=f"{limit // 1_000_000} MB")
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError) as error:
        raise InputError(field, "no_such_file", value=str(path)) from error
    except IsADirectoryError as error:
        raise InputError(field, "not_utf8", value=str(path)) from error


def read_document(path: Path, field: str = "FILE") -> str:
    try:
        return read_bytes(path, field=field).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(field, "not_utf8", value=str(path)) from error


def zone_option(value: str | None, field: str) -> str:
    """A time-zone option; without one, the program's default zone."""
    from mgsleep.clock import DEFAULT_TIMEZONE, known_zone

    if value is None:
        return DEFAULT_TIMEZONE
    try:
        return known_zone(value)
    except ValueError as error:
        raise InputError(field, "unknown_zone", value=value) from error


def clock_option(value: str, field: str) -> time:
    from mgsleep.clock import parse_clock

    try:
        return parse_clock(value)
    except ValueError as error:
        raise InputError(field, "clock_format", value=value) from error


def date_option(value: str | None, field: str, *, default: date | None = None) -> date:
    """A YYYY-MM-DD option; without one, `default` or today on this computer."""
    if value is None:
        from mgsleep.clock import today_in

        return default or today_in(None)
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InputError(field, "date_format", value=value) from error


@contextmanager
def local_store(db: str | None, *, write: bool = True) -> Iterator[tuple[Session, int]]:
    """One transaction on the person's own database, and their id in it."""
    from mgsleep.store.db import open_store, session_scope
    from mgsleep.store.repo import local_user_id

    engine = open_store(db)
    try:
        with session_scope(engine, write=write) as session:
            yield session, local_user_id(session)
    finally:
        engine.dispose()
