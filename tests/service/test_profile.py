from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from mgsleep.errors import Conflict, NotFound
from mgsleep.profile import Profile
from mgsleep.service import profile as service


def test_no_profile_is_not_found_and_an_unfinished_one_a_conflict(
    session: Session, owner: int
) -> None:
    with pytest.raises(NotFound) as missing:
        service.stored_profile(session, owner)
    assert missing.value.code == "no_profile"
    service.save_answers(session, owner, {"age": 40}, [1])
    with pytest.raises(Conflict) as unfinished:
        service.stored_profile(session, owner)
    assert unfinished.value.code == "profile_unfinished"
    assert service.finished_profile(session, owner) is None


def test_the_questionnaires_progress_is_kept_beside_the_answers(
    session: Session, owner: int
) -> None:
    service.save_answers(session, owner, {"age": 40, "sex": "female"}, [1, 6])
    stored = service.stored_answers(session, owner)
    assert stored is not None
    assert stored.answers == {"age": 40, "sex": "female"}
    assert stored.steps_done == [1, 6]
    service.save_answers(session, owner, {"age": 40, "sex": "female"}, None)
    assert service.stored_profile(session, owner).age == 40


def test_a_profile_is_stored_as_entered(session: Session, owner: int) -> None:
    service.save_profile(session, owner, Profile(age=30, sex="male"))
    stored = service.stored_answers(session, owner)
    assert stored is not None
    assert stored.answers == {"age": 30, "sex": "male"}
    assert stored.steps_done is None


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Pacific/Kiritimati", date(2026, 3, 2)),
        ("Europe/Amsterdam", date(2026, 3, 1)),
        ("Pacific/Pago_Pago", date(2026, 3, 1)),
        ("Not/AZone", date(2026, 3, 1)),
    ],
)
def test_today_is_the_date_where_the_person_lives(
    session: Session, owner: int, zone: str, expected: date
) -> None:
    service.save_answers(session, owner, {"timezone": zone}, [6])
    moment = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    assert service.person_today(session, owner, moment) == expected
