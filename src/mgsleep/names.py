"""Matching what people type (Dutch or English, any case) to keys of the evidence base."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from mgsleep.errors import InputError

_PREFIXES = ("magnesium ", "magnesium-", "magnesium")


def fold(name: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("’", "'").casefold().strip()
    return re.sub(r"[\s_-]+", " ", plain)


def strip_magnesium(name: str) -> str:
    """'magnesiumglycinaat' and 'magnesium glycinate' name the same form as 'glycinaat'."""
    for prefix in _PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :].lstrip(" -")
    return name


def build_index(entries: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """Map every folded name (and its magnesium-less variant) to the entry's key."""
    index: dict[str, str] = {}
    for key, names in entries:
        for name in (key, key.replace("_", " "), *names):
            folded = fold(name)
            index.setdefault(folded, key)
            index.setdefault(strip_magnesium(folded), key)
    return index


def lookup(index: Mapping[str, str], name: str) -> str | None:
    folded = fold(name)
    return index.get(folded) or index.get(strip_magnesium(folded))


def resolve(index: Mapping[str, str], name: str, *, field: str, valid: Iterable[str]) -> str:
    """The key for `name`, or an InputError listing the valid names and the closest ones."""
    key = lookup(index, name)
    if key is not None:
        return key
    close = closest(index, name)
    raise InputError(
        field,
        "unknown_name",
        hint="did_you_mean" if close else "valid_names",
        name=repr(name),
        closest=" / ".join(repr(c) for c in close),
        valid=", ".join(sorted(valid)),
    )


def closest(names: Iterable[str], name: str) -> list[str]:
    """Up to three of `names`, as written, spelled most like `name` (a typo's likely intent)."""
    by_fold: dict[str, str] = {}
    for known in names:
        by_fold.setdefault(fold(known), known)
    return [
        by_fold[f] for f in difflib.get_close_matches(fold(name), list(by_fold), n=3, cutoff=0.6)
    ]
