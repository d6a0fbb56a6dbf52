from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from mgsleep.errors import Conflict, InputError
from mgsleep.service import isi


def test_an_isi_a_day_and_the_change_since_the_first(session: Session, owner: int) -> None:
    first = isi.record_isi(session, owner, [3, 3, 3, 3, 3, 3, 3], date(2026, 1, 1))
    assert first.since_first is None
    later = isi.record_isi(session, owner, [1, 1, 1, 1, 1, 1, 1], date(2026, 2, 1))
    assert later.since_first is not None
    assert later.since_first.points == 7 - 21
    with pytest.raises(Conflict) as twice:
        isi.record_isi(session, owner, [0] * 7, date(2026, 2, 1))
    assert twice.value.code == "isi_exists"
    corrected = isi.record_isi(session, owner, [0] * 7, date(2026, 2, 1), replace=True)
    assert corrected.record.score.total_points == 0
    latest = isi.latest_isi(session, owner)
    assert latest is not None
    assert latest.record.taken_on == date(2026, 2, 1)
    assert [r.taken_on for r in isi.isi_history(session, owner)] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_wrong_answers_store_nothing(session: Session, owner: int) -> None:
    with pytest.raises(InputError) as refused:
        isi.record_isi(session, owner, [1, 2], date(2026, 1, 1))
    assert refused.value.code == "answer_count"
    assert isi.isi_history(session, owner) == []
