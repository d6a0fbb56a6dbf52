"""Dutch and English for every sentence the program itself writes.

The catalog is committed as a `.po` file and compiled in memory on first use, so an
installed package needs no build step and no `.mo` file can drift from its source.
"""

from __future__ import annotations

import functools
import gettext
import io
import os
import string
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")
DOMAIN = "mgsleep"


class Text(BaseModel):
    """A sentence for people, in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: Lang) -> str:
        return self.nl if lang == "nl" else self.en


def catalog_path(lang: Lang) -> str:
    return f"locale/{lang}/LC_MESSAGES/{DOMAIN}.po"


@functools.cache
def translations(lang: Lang) -> gettext.NullTranslations:
    if lang == "en":  # msgids are English
        return gettext.NullTranslations()
    po_text = resources.files("mgsleep").joinpath(catalog_path(lang)).read_bytes()
    catalog = read_po(io.BytesIO(po_text), locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class _LocalFormatter(string.Formatter):
    """str.format with the language's decimal comma: 1.42 -> 1,42 and 1,235 -> 1.235 in Dutch."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        text: str = format(value, format_spec)
        if self.lang == "nl" and isinstance(value, int | float) and not isinstance(value, bool):
            return text.translate(_DUTCH_SEPARATORS)
        return text


_DUTCH_SEPARATORS = str.maketrans({".": ",", ",": "."})


def format_number(lang: Lang, template: str, *args: Any, **values: Any) -> str:
    return _LocalFormatter(lang).format(template, *args, **values)


def both(message: str, **values: object) -> Text:
    """A catalog sentence in both languages, with `{name}` placeholders filled in.

    The core uses this for the sentences it composes, so every result it returns can be
    shown in either language without the core knowing who reads it. A value that is itself
    a Text is filled in per language.
    """

    def render(lang: Lang) -> str:
        localised = {k: v.get(lang) if isinstance(v, Text) else v for k, v in values.items()}
        return format_number(lang, translations(lang).gettext(message), **localised)

    return Text(nl=render("nl"), en=render("en"))


def parse_lang(value: str | None) -> Lang | None:
    """'nl', 'nl_NL.UTF-8', 'nl-BE,nl;q=0.9' -> 'nl'; anything English -> 'en'; else None."""
    if not value:
        return None
    first = value.split(",")[0].split(";")[0].strip().replace("-", "_").lower()
    code = first.split("_")[0].split(".")[0]
    return "nl" if code == "nl" else "en" if code == "en" else None


def default_lang(environ: Mapping[str, str] | None = None) -> Lang:
    """The person's language from the usual locale variables; English when none says."""
    env = os.environ if environ is None else environ
    for variable in ("MGSLEEP_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        lang = parse_lang(env.get(variable))
        if lang is not None:
            return lang
    return "en"


def lower_first(text: Text) -> Text:
    """A name used inside a sentence: 'Magnesiumcitraat' -> 'magnesiumcitraat'."""
    return Text(nl=text.nl[:1].lower() + text.nl[1:], en=text.en[:1].lower() + text.en[1:])


def fill(text: Text, **values: object) -> Text:
    """A data text with `{name}` placeholders, filled in per language (decimal comma in Dutch)."""

    def render(lang: Lang) -> str:
        localised = {k: v.get(lang) if isinstance(v, Text) else v for k, v in values.items()}
        return format_number(lang, text.get(lang), **localised)

    return Text(nl=render("nl"), en=render("en"))
