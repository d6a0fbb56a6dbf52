"""Reading what people type into form fields: numbers written either way, times, rows."""

from __future__ import annotations

import math
import re

from starlette.datastructures import FormData

from mgsleep.clock import parse_clock
from mgsleep.web.pages.common import NBSP

ROW_ID = re.compile(r"[a-z0-9]{1,16}")


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def form_texts(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


def form_rows(form: FormData, kind: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """A repeating group sent as `kind.column.id`, in the order the rows were sent."""
    rows: dict[str, dict[str, str]] = {}
    for name, value in form.multi_items():
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != kind or parts[1] not in columns:
            continue
        if not ROW_ID.fullmatch(parts[2]) or not isinstance(value, str):
            continue
        row = rows.setdefault(parts[2], {"id": parts[2], **dict.fromkeys(columns, "")})
        row[parts[1]] = value.strip()
    return list(rows.values())


def typed_number(text: str) -> float | None:
    """'72,5' and '72.5' -> 72.5; '1.500' and '1,500' -> 1500; empty -> None; else ValueError.

    Grouped thousands are read as thousands in either language: a Dutch "1.000 mg" of
    magnesium taken already must not count as 1 mg against the upper limit.
    """
    cleaned = text.strip().replace(" ", "").replace(NBSP, "")
    if not cleaned:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", cleaned):
        cleaned = cleaned.replace(".", "")
    elif re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    value = float(cleaned.replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def typed_clock(text: str) -> str:
    """'22:30', '22.30', '7:05' or '22:30:00' -> 'HH:MM'; anything else -> ValueError."""
    cleaned = text.strip().replace(".", ":")
    if re.fullmatch(r"\d{1,2}:\d{2}:\d{2}", cleaned):
        cleaned = cleaned.rsplit(":", 1)[0]
    return parse_clock(cleaned).strftime("%H:%M")


def typed_clocks(text: str) -> list[str]:
    return [typed_clock(token) for token in re.split(r"[,;\s]+", text.strip()) if token]
