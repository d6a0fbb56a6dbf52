"""`mgsleep isi`: the Insomnia Severity Index, asked item by item or given as numbers."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from mgsleep.cli.common import (
    DbOption,
    JsonOption,
    LangOption,
    View,
    date_option,
    local_store,
    print_json,
)
from mgsleep.errors import InputError

if TYPE_CHECKING:
    from mgsleep.diary.questionnaires import Score
    from mgsleep.evidence.schema import Questionnaire


def _parse_answers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part != ""]
    except ValueError as error:
        raise InputError("--answers", "answer_list", value=text) from error


def _ask(view: View, q: Questionnaire) -> list[int]:
    if not sys.stdin.isatty():
        raise InputError("--answers", "missing", hint="answers_option")
    view.console.print(f"[bold]{view.text(q.name)}[/] — {view.text(q.recall)}")
    answers = []
    for number, item in enumerate(q.items, start=1):
        view.console.print(f"\n{number}. {view.text(item.text)}")
        for value, anchor in enumerate(item.anchors, start=q.item_min):
            view.console.print(f"   {value} = {view.text(anchor)}")
        answers.append(_ask_number(view, q))
    return answers


def _ask_number(view: View, q: Questionnaire) -> int:
    while True:
        reply: int = typer.prompt("  →", type=int)
        if q.item_min <= reply <= q.item_max:
            return reply
        view.console.print(
            view.fmt(
                "A whole number from {low} to {high}, please.", low=q.item_min, high=q.item_max
            )
        )


def isi_command(
    answers: Annotated[
        str | None, typer.Option("--answers", help="The seven answers 0–4, e.g. 2,3,1,3,1,2,3.")
    ] = None,
    taken_on: Annotated[
        str | None, typer.Option("--date", help="The day you answer (default: today).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace an earlier answer of the same day.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """The Insomnia Severity Index: score, band, and the change since your first one."""
    from mgsleep.evidence import load_evidence
    from mgsleep.public import isi_created
    from mgsleep.service.isi import record_isi

    view = View(lang)
    q = load_evidence().questionnaire("isi")
    given = _parse_answers(answers) if answers is not None else _ask(view, q)
    day = date_option(taken_on, "--date")
    with local_store(db) as (session, owner):
        recorded = record_isi(session, owner, given, day, replace=replace)
    if as_json:
        print_json(isi_created(recorded, view.lang))
        return
    _print_score(view, q, recorded.record.score)
    if recorded.since_first is not None:
        view.console.print(view.text(recorded.since_first.text))


def _print_score(view: View, q: Questionnaire, result: Score) -> None:
    view.console.print(
        view.fmt(
            "{name}: {total} of {maximum} points — {band}.",
            name=q.name.get(view.lang),
            total=result.total_points,
            maximum=q.item_max * len(q.items),
            band=result.band_label.get(view.lang),
        )
    )
