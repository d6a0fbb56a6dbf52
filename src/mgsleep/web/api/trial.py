"""/trial: the N-of-1 trial started, followed, and reported."""

from __future__ import annotations

from datetime import date

from fastapi import status
from fastapi.responses import HTMLResponse
from pydantic import Field

from mgsleep.public import TrialPublic, TrialStatus, trial_public, trial_status
from mgsleep.service import trials
from mgsleep.store.db import session_scope
from mgsleep.trial.analysis import TrialReport
from mgsleep.trial.protocol import TrialProtocol
from mgsleep.web.api.common import AsOfQuery, documented, guarded_router
from mgsleep.web.deps import CurrentUser, EngineDep, LocaleDep, SessionDep, today_for

guarded = guarded_router()


class TrialStart(TrialProtocol):
    from_plan: bool = Field(
        default=False,
        description="take form, dose and intake time from the stored profile's plan, "
        "where they are not given",
    )


@guarded.get("/trial", tags=["trial"], responses=documented(404))
def read_trial(session: SessionDep, user: CurrentUser) -> TrialPublic:
    """The running trial's protocol."""
    return trial_public(trials.running_trial(session, user.id))


@guarded.post(
    "/trial",
    status_code=status.HTTP_201_CREATED,
    tags=["trial"],
    responses=documented(422),
)
def begin_trial(session: SessionDep, user: CurrentUser, body: TrialStart) -> TrialPublic:
    """Start a trial; an earlier one is kept, inactive, for its report."""
    values = dict(body)
    from_plan = bool(values.pop("from_plan"))
    return trial_public(trials.start_trial(session, user.id, values, from_plan=from_plan))


def _inputs(engine: EngineDep, owner_id: int) -> tuple[trials.TrialInputs, date]:
    # Its own short read: the analysis runs after the connection is back in the pool.
    with session_scope(engine, write=False) as session:
        return trials.trial_inputs(session, owner_id), today_for(session, owner_id)


@guarded.get("/trial/status", tags=["trial"], responses=documented(404, 422))
def read_trial_status(engine: EngineDep, user: CurrentUser, as_of: AsOfQuery = None) -> TrialStatus:
    """Nights per phase, adherence, what is missing and when the verdict is due."""
    inputs, today = _inputs(engine, user.id)
    return trial_status(trials.trial_analysis(inputs, as_of or today))


@guarded.get("/trial/report", tags=["trial"], responses=documented(404, 422))
def read_trial_report(engine: EngineDep, user: CurrentUser, as_of: AsOfQuery = None) -> TrialReport:
    """Per outcome: the phase means, the difference with its interval, and the verdict."""
    inputs, today = _inputs(engine, user.id)
    return trials.trial_report(inputs, as_of or today)


@guarded.get(
    "/trial/report.html",
    tags=["trial"],
    response_class=HTMLResponse,
    responses=documented(404, 422),
)
def trial_report_html(
    engine: EngineDep, user: CurrentUser, lang: LocaleDep, as_of: AsOfQuery = None
) -> HTMLResponse:
    """The report as one self-contained HTML page, charts included."""
    inputs, today = _inputs(engine, user.id)
    return HTMLResponse(trials.trial_report_html(inputs, as_of or today, lang))
