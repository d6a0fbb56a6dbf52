"""`mgsleep isi`: the Insomnia Severity Index, asked item by item or given as numbers."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer

from mgsleep.cli_common import DbOption, JsonOption, LangOption, View, date_option, print_json
from mgsleep.diary.questionnaires import Score, change, score
from mgsleep.errors import InputError
from mgsleep.evidence import load_evidence
from mgsleep.evidence.schema import Questionnaire
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import DuplicateResponse, add_response, get_responses, local_user_id

ISI = "isi"


def _parse_answers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part != ""]
    except ValueError as error:
        raise InputError(
            "--answers", "expected whole numbers separated by commas", value=text
        ) from error


def _ask(view: View, q: Questionnaire) -> list[int]:
    if not sys.stdin.isatty():
        raise InputError(
            "--answers",
            "no answers given",
            allowed="give --answers 1,2,0,... or run it in a terminal",
        )
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
    view = View(lang)
    q = load_evidence().questionnaire(ISI)
    given = _parse_answers(answers) if answers is not None else _ask(view, q)
    result = score(q, given)
    day = date_option(taken_on, "--date") if taken_on else date.today()
    engine = open_store(db)
    try:
        with session_scope(engine) as session:
            owner = local_user_id(session)
            add_response(session, owner, ISI, day, given, result.total_points, replace=replace)
            earlier = [r for r in get_responses(session, owner, ISI) if r.taken_on < day]
    except DuplicateResponse as error:
        raise InputError(
            "--date",
            "an ISI for this day is already stored",
            value=day.isoformat(),
            allowed="add --replace to overwrite it",
        ) from error
    first = score(q, list(earlier[0].answers)) if earlier else None
    since = None if first is None else change(q, first, result)
    if as_json:
        print_json(
            {
                "date": day.isoformat(),
                **result.model_dump(mode="json"),
                "change_since_first": None if since is None else since.model_dump(mode="json"),
            }
        )
        return
    _print_score(view, q, result)
    if since is not None:
        view.console.print(view.text(since.text))


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
