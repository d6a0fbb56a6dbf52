"""Starting the trial: what the plan says to take, the design (randomised pairs recommended),
its dates, blinding, the outcome; the protocol is frozen when it starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from mgsleep.errors import InputError, by_field
from mgsleep.evidence.schema import Severity
from mgsleep.i18n import Lang, translations
from mgsleep.plan import make_plan
from mgsleep.service import trials
from mgsleep.service.profile import finished_profile
from mgsleep.service.trials import intake_from_plan, start_trial
from mgsleep.store.repo import Account, active_trial
from mgsleep.trial.labels import outcome_name
from mgsleep.trial.protocol import (
    DEFAULT_PAIRS,
    DEFAULT_PERIOD_NIGHTS,
    IDEAL_BASELINE_NIGHTS,
    MIN_BASELINE_NIGHTS,
    PERIOD_NIGHTS_CHOICES,
    RANDOMISED_DESIGNS,
    Design,
    Outcome,
)
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, TodayDep
from mgsleep.web.pages.common import FormCsrf, htmx_status, page, parse_date
from mgsleep.web.pages.trial_report import PowerRows, power_rows, trial_report_page

router = APIRouter()

TRIAL_BASELINE_DEFAULT_NIGHTS = IDEAL_BASELINE_NIGHTS


@dataclass(frozen=True)
class PlanOffer:
    """What the plan says to take in the trial, or why it proposes nothing."""

    form: str | None = None
    form_name: str | None = None
    dose_mg: float | None = None
    intake_time: time | None = None
    refusal: list[str] = field(default_factory=list)
    no_profile: bool = False

    @property
    def usable(self) -> bool:
        return not self.no_profile and not self.refusal


def _plan_offer(session: Session, owner_id: int, start: date, lang: Lang) -> PlanOffer:
    """Form, dose and intake time from the plan, so the trial tests what the person takes."""
    profile = finished_profile(session, owner_id)
    if profile is None:
        return PlanOffer(no_profile=True)
    plan = make_plan(profile, start=start)
    try:
        intake = intake_from_plan(plan, start)
    except InputError:
        stops = [f for f in plan.findings if f.severity is Severity.stop]
        reasons = [f"{f.message.get(lang)} {f.management.get(lang)}" for f in stops]
        fallback = translations(lang).gettext("Your plan proposes no magnesium supplement for you.")
        return PlanOffer(refusal=reasons or [fallback])
    name = plan.form_choice.name.get(lang) if plan.form_choice else plan.form
    return PlanOffer(
        form=intake.form, form_name=name, dose_mg=intake.dose_mg, intake_time=intake.intake_time
    )


class TrialForm(BaseModel):
    baseline_start: str = ""
    magnesium_start: str = ""
    design: str = Design.pairs.value
    period_nights: str = str(DEFAULT_PERIOD_NIGHTS)
    pairs: str = str(DEFAULT_PAIRS)
    washout_days: str = ""
    blinded: str = ""
    primary_outcome: str = Outcome.sleep_latency_min.value
    replace_current: str = ""


def _trial_defaults(today: date) -> dict[str, str]:
    return {
        "baseline_start": today.isoformat(),
        "magnesium_start": (today + timedelta(days=TRIAL_BASELINE_DEFAULT_NIGHTS)).isoformat(),
        "design": Design.pairs.value,
        "period_nights": str(DEFAULT_PERIOD_NIGHTS),
        "pairs": str(DEFAULT_PAIRS),
        "washout_days": "0",
        "primary_outcome": Outcome.sleep_latency_min.value,
    }


def _protocol_values(form: TrialForm, offer: PlanOffer) -> dict[str, object]:
    """The form as protocol values. A randomised trial starts its periods on its first
    night (the baseline of A-B is their run-in: the form's second date is for A-B only)."""
    randomised = form.design in {d.value for d in RANDOMISED_DESIGNS}
    values: dict[str, object] = {
        "baseline_start": form.baseline_start,
        "magnesium_start": form.baseline_start if randomised else form.magnesium_start,
        "design": form.design,
        "primary_outcome": form.primary_outcome,
        "form": offer.form,
        "dose_mg": offer.dose_mg,
        "intake_time": offer.intake_time,
    }
    if randomised:
        values |= {
            "period_nights": form.period_nights,
            "pairs": form.pairs,
            "blinded": form.blinded == "yes",
        }
    if form.washout_days.strip() and (randomised or form.design == Design.abab.value):
        values["washout_days"] = form.washout_days.strip()
    return values


def _trial_form_errors(form: TrialForm, lang: Lang, has_trial: bool) -> dict[str, str]:
    _ = translations(lang).gettext
    errors: dict[str, str] = {}
    dates = ["baseline_start"]
    if form.design not in {d.value for d in RANDOMISED_DESIGNS}:
        dates.append("magnesium_start")
    for name in dates:
        if parse_date(getattr(form, name)) is None:
            errors[name] = _("Enter a date as YYYY-MM-DD.")
    if form.design not in {d.value for d in Design}:
        errors["design"] = _("Choose one of the options.")
    if form.primary_outcome not in {o.value for o in Outcome}:
        errors["primary_outcome"] = _("Choose one of the options.")
    if has_trial and form.replace_current != "yes":
        errors["replace_current"] = _("Tick the box to stop the current trial and start a new one.")
    return errors


def _start_page(
    request: Request,
    lang: Lang,
    user: Account,
    *,
    offer: PlanOffer,
    values: Mapping[str, str],
    has_trial: bool,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    power: PowerRows | None = None,
) -> HTMLResponse:
    return page(
        request,
        "trial.html",
        lang,
        user,
        status_code=htmx_status(request, status_code),
        trial=None,
        has_trial=has_trial,
        offer=offer,
        values=values,
        errors=errors or {},
        outcomes=[(o.value, outcome_name(o, lang)) for o in Outcome],
        min_baseline_nights=MIN_BASELINE_NIGHTS,
        period_choices=PERIOD_NIGHTS_CHOICES,
        power=power,
    )


@router.get("/trial", response_class=HTMLResponse)
def trial_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    today: TodayDep,
    new: str | None = None,
    started: str | None = None,
) -> Response:
    protocol = active_trial(session, user.id)
    if protocol is not None and not new:
        return trial_report_page(request, lang, user, session, today, started=bool(started))
    offer = _plan_offer(session, user.id, today, lang)
    return _start_page(
        request,
        lang,
        user,
        offer=offer,
        values=_trial_defaults(today),
        has_trial=protocol is not None,
        power=power_rows(
            trials.power_outlook(
                trials.power_inputs(session, user.id, today, with_trial=False), today
            ),
            lang,
        ),
    )


@router.post("/trial", dependencies=[FormCsrf])
def trial_start(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    today: TodayDep,
    form: Annotated[TrialForm, Form()],
) -> Response:
    has_trial = active_trial(session, user.id) is not None
    errors = _trial_form_errors(form, lang, has_trial)
    offer = _plan_offer(session, user.id, parse_date(form.baseline_start) or today, lang)
    if not errors and offer.usable:
        try:
            start_trial(session, user.id, _protocol_values(form, offer))
        except InputError as error:
            errors = by_field(error.problems, lang)
        else:
            return RedirectResponse("/trial?started=1", status_code=303)
    return _start_page(
        request,
        lang,
        user,
        offer=offer,
        values=form.model_dump(),
        has_trial=has_trial,
        errors=errors,
        status_code=422,
    )
