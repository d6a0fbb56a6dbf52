from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from mgsleep.diary.night import NightEntry
from mgsleep.service import diary, isi
from mgsleep.service.account import export_everything
from mgsleep.store.repo import create_account


def test_the_export_holds_everything_of_one_person(session: Session, owner: int) -> None:
    other = create_account(session, "bert", "hash")
    night = NightEntry(
        date=date(2026, 1, 15),
        in_bed="22:30",
        lights_out="22:45",
        sleep_latency_min=20,
        final_wake="06:30",
        out_of_bed="07:00",
        notes="mine",
    )
    diary.add_night(session, owner, night)
    diary.add_night(session, other.id, night.model_copy(update={"notes": "bert's"}))
    isi.record_isi(session, owner, [1] * 7, date(2026, 1, 16))
    export = export_everything(
        session, owner, "local", lang="en", at=datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert [n.notes for n in export.nights] == ["mine"]
    assert [i.total_points for i in export.isi] == [7]
    assert export.trial is None
    assert "bert" not in export.model_dump_json()
