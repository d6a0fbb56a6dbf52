"""The Insomnia Severity Index: answers scored and stored, the history, the change since the
first one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mgsleep.diary.questionnaires import Change, IsiRecord, IsiResult, change, score
from mgsleep.errors import Conflict
from mgsleep.evidence import load_evidence
from mgsleep.evidence.schema import Questionnaire
from mgsleep.store import repo

ISI = "isi"


def isi() -> Questionnaire:
    return load_evidence().questionnaire(ISI)


def isi_history(session: Session, owner_id: int) -> list[IsiRecord]:
    """Every ISI answered, oldest first."""
    q = isi()
    return [
        IsiRecord(r.taken_on, r.answers, score(q, list(r.answers)))
        for r in repo.get_responses(session, owner_id, ISI)
    ]


def _since_first(history: Sequence[IsiRecord], record: IsiRecord) -> Change | None:
    earlier = [r for r in history if r.taken_on < record.taken_on]
    return None if not earlier else change(isi(), earlier[0].score, record.score)


def record_isi(
    session: Session, owner_id: int, answers: Sequence[int], day: date, *, replace: bool = False
) -> IsiResult:
    """Score and store the answers of `day`; a Conflict when that day has one, unless
    `replace` (a second answer on the same day then corrects the first)."""
    result = score(isi(), list(answers))
    try:
        with session.begin_nested():
            repo.add_response(
                session, owner_id, ISI, day, list(answers), result.total_points, replace=replace
            )
            session.flush()
    except (repo.DuplicateResponse, IntegrityError) as error:
        raise Conflict("date", "isi_exists", hint="add_replace", date=day.isoformat()) from error
    record = IsiRecord(day, tuple(answers), result)
    return IsiResult(record, _since_first(isi_history(session, owner_id), record))


def latest_isi(session: Session, owner_id: int) -> IsiResult | None:
    history = isi_history(session, owner_id)
    if not history:
        return None
    return IsiResult(history[-1], _since_first(history, history[-1]))
