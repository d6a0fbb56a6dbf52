"""Everything stored about one person, in one document: what the API and the account page
both hand out, so a person gets the same export whichever way they ask."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mgsleep.i18n import Lang
from mgsleep.public import AccountExport, isi_public, night_public, trial_public
from mgsleep.service.isi import isi_history
from mgsleep.service.profile import person_today
from mgsleep.store import repo


def export_everything(
    session: Session, owner_id: int, username: str, *, lang: Lang, at: datetime
) -> AccountExport:
    # A blinded trial's allocation is in the export once the trial has ended, not before.
    trials = repo.get_trials(session, owner_id, today=person_today(session, owner_id, at))
    running = next((protocol for protocol, active in trials if active), None)
    return AccountExport(
        username=username,
        exported_at=at,
        profile=repo.get_profile(session, owner_id),
        nights=[night_public(n) for n in repo.get_nights(session, owner_id)],
        isi=[isi_public(record, lang) for record in isi_history(session, owner_id)],
        trial=None if running is None else trial_public(running),
        earlier_trials=[protocol for protocol, active in trials if not active],
    )
