"""Dutch and English for every sentence the program itself writes.

The catalog is committed as a `.po` file and compiled in memory on first use, so an
installed package needs no build step and no `.mo` file can drift from its source.
"""

from __future__ import annotations

import functools
import gettext
import io
import string
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from pydantic import BaseModel, ConfigDict, Field

from mgsleep.lang import LANGS, N_, Lang, default_lang, parse_lang

__all__ = [
    "DOMAIN",
    "LANGS",
    "N_",
    "Lang",
    "Text",
    "both",
    "catalog_path",
    "default_lang",
    "fill",
    "format_number",
    "lower_first",
    "parse_lang",
    "translations",
]

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


def lower_first(text: Text) -> Text:
    """A name used inside a sentence: 'Magnesiumcitraat' -> 'magnesiumcitraat'."""
    return Text(nl=text.nl[:1].lower() + text.nl[1:], en=text.en[:1].lower() + text.en[1:])


def fill(text: Text, **values: object) -> Text:
    """A data text with `{name}` placeholders, filled in per language (decimal comma in Dutch)."""

    def render(lang: Lang) -> str:
        localised = {k: v.get(lang) if isinstance(v, Text) else v for k, v in values.items()}
        return format_number(lang, text.get(lang), **localised)

    return Text(nl=render("nl"), en=render("en"))
