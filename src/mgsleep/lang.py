"""The two languages and how a person's choice of one is read; the standard library only, so
any module (the errors every command imports) can know them without loading the catalog."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention: mark now, translate later
    """Marks a sentence for the catalog whose translation is looked up later, by key."""
    return message


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
