"""/trial: the N-of-1 trial started, followed, and reported.

A blinded trial is read sealed until it has ended: its report, charts and blinding score
answer 409 `trial_sealed` until then, and no answer carries its allocation.
"""

from __future__ import annotations

from datetime import date

from fastapi import Response, status
from fastapi.responses import HTMLResponse
from pydantic import Field

from mgsleep.public import TrialPublic, TrialStatus, trial_public
from mgsleep.service import trials
from mgsleep.store.db import session_scope
from mgsleep.trial.analysis import TrialReport
from mgsleep.trial.blinding import BlindingScore
from mgsleep.trial.power import PowerOutlook
from mgsleep.trial.protocol import TrialProtocol
from mgsleep.web.api.common import AsOfQuery, documented, guarded_router
from mgsleep.web.deps import CurrentUser, EngineDep, LocaleDep, SessionDep, TodayDep, today_for

guarded = guarded_router()
PDF = "application/pdf"


class TrialStart(TrialProtocol):
    from_plan: bool = Field(
        default=False,
        description="take form, dose and intake time from the stored profile's plan, "
        "where they are not given",
    )


@guarded.get("/trial", tags=["trial"], responses=documented(404))
def read_trial(session: SessionDep, user: CurrentUser, today: TodayDep) -> TrialPublic:
    """The running trial's protocol, its pre-registration fingerprint, and its allocation
    (a blinded trial's only once it has ended)."""
    return trial_public(trials.running_trial(session, user.id, today))


@guarded.post(
    "/trial",
    status_code=status.HTTP_201_CREATED,
    tags=["trial"],
    responses=documented(422),
)
def begin_trial(session: SessionDep, user: CurrentUser, body: TrialStart) -> TrialPublic:
    """Start a trial, frozen as it is given (a changed protocol is a new trial); an earlier
    one is kept, inactive, for its report. A randomised design draws its allocation now."""
    values = dict(body)
    from_plan = bool(values.pop("from_plan"))
    return trial_public(trials.start_trial(session, user.id, values, from_plan=from_plan))


def _inputs(engine: EngineDep, owner_id: int) -> tuple[trials.TrialInputs, date]:
    # Its own short read: the analysis runs after the connection is back in the pool.
    with session_scope(engine, write=False) as session:
        today = today_for(session, owner_id)
        return trials.trial_inputs(session, owner_id, today), today


@guarded.get("/trial/status", tags=["trial"], responses=documented(404, 422))
def read_trial_status(engine: EngineDep, user: CurrentUser, as_of: AsOfQuery = None) -> TrialStatus:
    """Nights per phase, adherence, what is missing and when the verdict is due."""
    inputs, today = _inputs(engine, user.id)
    return trials.trial_status(inputs, as_of or today)


@guarded.get("/trial/power", tags=["trial"])
def read_trial_power(engine: EngineDep, user: CurrentUser) -> PowerOutlook:
    """How many nights each design needs for an 80 % chance of showing the smallest change
    that matters; with a trial running, also its own chance at its planned length. The noise
    comes from the trial's nights after two weeks of them, before that from the four weeks
    without magnesium before it, else from defaults (`source` says which)."""
    with session_scope(engine, write=False) as session:
        today = today_for(session, user.id)
        inputs = trials.power_inputs(session, user.id, today)
    return trials.power_outlook(inputs, today)


@guarded.get("/trial/report", tags=["trial"], responses=documented(404, 409, 422))
def read_trial_report(engine: EngineDep, user: CurrentUser, as_of: AsOfQuery = None) -> TrialReport:
    """Per outcome: the phase means, the difference with its interval, and the verdict."""
    inputs, today = _inputs(engine, user.id)
    return trials.trial_report(inputs, as_of or today)


@guarded.get("/trial/blinding", tags=["trial"], responses=documented(404, 409, 422))
def read_trial_blinding(
    engine: EngineDep, user: CurrentUser, as_of: AsOfQuery = None
) -> BlindingScore:
    """A blinded trial, once ended: the morning guesses against what was taken."""
    inputs, today = _inputs(engine, user.id)
    return trials.trial_blinding(inputs, as_of or today)


@guarded.get(
    "/trial/report.html",
    tags=["trial"],
    response_class=HTMLResponse,
    responses=documented(404, 409, 422),
)
def trial_report_html(
    engine: EngineDep, user: CurrentUser, lang: LocaleDep, as_of: AsOfQuery = None
) -> HTMLResponse:
    """The report as one self-contained HTML page, charts included."""
    inputs, today = _inputs(engine, user.id)
    return HTMLResponse(trials.trial_report_html(inputs, as_of or today, lang))


@guarded.get(
    "/trial/report.pdf",
    tags=["trial"],
    response_class=Response,
    responses={200: {"content": {PDF: {}}}, **documented(404, 409, 422)},
)
def trial_report_pdf(
    engine: EngineDep, user: CurrentUser, lang: LocaleDep, as_of: AsOfQuery = None
) -> Response:
    """The report as PDF: a one-page summary for a doctor or pharmacist, then the details."""
    inputs, today = _inputs(engine, user.id)
    pdf = trials.trial_report_pdf(inputs, as_of or today, lang)
    return Response(pdf, media_type=PDF)


@guarded.get(
    "/trial/helper-sheet.html",
    tags=["trial"],
    response_class=HTMLResponse,
    responses=documented(404, 409),
)
def trial_helper_sheet(
    session: SessionDep, user: CurrentUser, lang: LocaleDep, today: TodayDep
) -> HTMLResponse:
    """A blinded trial's preparation sheet for the helper (it holds the allocation), until
    the first period starts."""
    return HTMLResponse(trials.helper_sheet_html(session, user.id, today, lang))
