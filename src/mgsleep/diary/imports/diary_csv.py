"""The generic diary CSV (examples/diary-template.csv) as an importer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from mgsleep.diary.csvio import RowError, parse_csv
from mgsleep.diary.imports import ImportItem, Rejected
from mgsleep.errors import InputError

SOURCE = "diary"


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    wrapper = io.TextIOWrapper(stream, encoding="utf-8-sig")
    try:
        text = wrapper.read()
    except UnicodeDecodeError:
        yield Rejected("file", "not a UTF-8 CSV file", "not_utf8")
        return
    finally:
        wrapper.detach()  # the stream is the caller's to close
    try:
        for item in parse_csv(text, timezone=timezone):
            if isinstance(item, RowError):
                yield Rejected.of(f"row {item.row}", item.problem, row=item.row)
            else:
                yield item
    except InputError as error:
        yield Rejected.of("file", error.problem)
