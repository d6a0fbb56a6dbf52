"""`mgsleep trial …`: start the N-of-1 trial, follow it, read its verdict."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from mgsleep.cli_common import (
    DbOption,
    JsonOption,
    LangOption,
    View,
    clock_option,
    date_option,
    print_json,
    read_document,
)
from mgsleep.diary.night import NightEntry
from mgsleep.documents import parse_document
from mgsleep.errors import InputError
from mgsleep.plan import Verdict as PlanVerdict
from mgsleep.plan import make_plan
from mgsleep.profile import Profile
from mgsleep.schedule import evening
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import (
    active_trial,
    get_nights,
    get_responses,
    local_user_id,
    start_trial,
)
from mgsleep.trial.analysis import TrialAnalysis, analyse
from mgsleep.trial.analysis import report as summarise_trial
from mgsleep.trial.charts import all_charts
from mgsleep.trial.labels import outcome_name, phase_name, verdict_name
from mgsleep.trial.protocol import Design, Outcome, Phase, TrialProtocol
from mgsleep.trial.report import render_html

trial_app = typer.Typer(help="The N-of-1 trial: baseline, then magnesium.", no_args_is_help=True)


def _from_plan(profile_file: Path, baseline_start: date) -> dict[str, Any]:
    """Form, dose and intake time from the person's plan, so the trial tests what they take."""
    profile = parse_document(read_document(profile_file), Profile)
    plan = make_plan(profile, start=baseline_start)
    if plan.verdict is PlanVerdict.stop or plan.elemental_mg is None:
        raise InputError(
            "--profile",
            "the plan proposes no magnesium (a stop finding or no room under the limit)",
            allowed="see `mgsleep plan` and talk to your doctor first",
        )
    intake = next(
        (
            e.start.time()
            for e in evening(plan, night=baseline_start).entries
            if e.kind == "magnesium"
        ),
        None,
    )
    return {"form": plan.form, "dose_mg": plan.elemental_mg, "intake_time": intake}


@trial_app.command("start")
def start_command(
    baseline_start: Annotated[
        str, typer.Option("--baseline-start", help="First baseline night (morning date).")
    ],
    magnesium_start: Annotated[
        str, typer.Option("--magnesium-start", help="First magnesium night (morning date).")
    ],
    end: Annotated[str | None, typer.Option("--end", help="First night after the trial.")] = None,
    design: Annotated[Design, typer.Option("--design", help="ab, or abab with washout.")] = (
        Design.ab
    ),
    washout_days: Annotated[int, typer.Option("--washout-days", help="A-B-A-B only.")] = 14,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Take form, dose and time from the plan.")
    ] = None,
    form: Annotated[str | None, typer.Option("--form")] = None,
    dose_mg: Annotated[float | None, typer.Option("--dose-mg", help="Elemental mg.")] = None,
    intake_time: Annotated[str | None, typer.Option("--intake-time", help="HH:MM.")] = None,
    primary: Annotated[
        Outcome, typer.Option("--primary", help="The outcome the verdict is about.")
    ] = Outcome.sleep_latency_min,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Set the protocol: phases by date, what is taken, the primary outcome."""
    first = date_option(baseline_start, "--baseline-start")
    data: dict[str, Any] = {
        "baseline_start": first,
        "magnesium_start": date_option(magnesium_start, "--magnesium-start"),
        "end": date_option(end, "--end") if end else None,
        "design": design,
        "washout_days": washout_days,
        "form": form,
        "dose_mg": dose_mg,
        "intake_time": clock_option(intake_time, "--intake-time") if intake_time else None,
        "primary_outcome": primary,
    }
    if profile is not None:
        data |= {k: v for k, v in _from_plan(profile, first).items() if data.get(k) is None}
    protocol = _protocol(data)
    engine = open_store(db)
    with session_scope(engine) as session:
        start_trial(session, local_user_id(session), protocol)
    if as_json:
        print_json(protocol)
        return
    view = View(lang)
    view.console.print(
        view.fmt(
            "Trial set: baseline from {baseline}, magnesium from {magnesium}; the verdict is "
            "due on {due} if you log every night.",
            baseline=protocol.baseline_start.isoformat(),
            magnesium=protocol.magnesium_start.isoformat(),
            due=protocol.verdict_due().isoformat(),
        )
    )


def _protocol(data: dict[str, Any]) -> TrialProtocol:
    try:
        return TrialProtocol.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        message = problem["msg"].removeprefix("Value error, ")
        field, _, reason = message.partition(": ")
        if not reason:
            field, reason = ".".join(str(p) for p in problem["loc"]), message
        raise InputError("--" + field.replace("_", "-"), reason) from error


def load_analysis(db: str | None, as_of: date) -> TrialAnalysis:
    return load_trial(db, as_of)[0]


def load_trial(db: str | None, as_of: date) -> tuple[TrialAnalysis, list[NightEntry]]:
    engine = open_store(db)
    with session_scope(engine) as session:
        owner = local_user_id(session)
        protocol = active_trial(session, owner)
        if protocol is None:
            raise InputError("trial", "no trial started", allowed="run `mgsleep trial start`")
        nights = get_nights(session, owner)
        isi = [(r.taken_on, r.total) for r in get_responses(session, owner, "isi")]
    return analyse(protocol, nights, as_of=as_of, isi_totals=isi), nights


AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Count nights up to this date (default: today).")
]


@trial_app.command("status")
def status_command(
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Nights logged per phase, adherence, what is missing, when the verdict is due."""
    analysis = load_analysis(db, date_option(as_of, "--as-of") if as_of else date.today())
    due = analysis.protocol.verdict_due()
    if as_json:
        print_json(
            {
                "nights_by_phase": analysis.nights_by_phase,
                "missing_nights": analysis.missing_nights,
                "adherence_pct": analysis.adherence_pct,
                "more_nights_needed": analysis.more_nights_needed,
                "verdict_due": due.isoformat(),
                "verdict": analysis.verdict.value,
            }
        )
        return
    view = View(lang)
    _ = view._
    table = Table(show_header=False)
    table.add_column()
    table.add_column(justify="right")
    for phase, count in analysis.nights_by_phase.items():
        table.add_row(phase_name(Phase(phase), view.lang), str(count))
    table.add_row(_("missing nights"), str(analysis.missing_nights))
    table.add_row(
        _("adherence"),
        view.pct(None if analysis.adherence_pct is None else analysis.adherence_pct / 100),
    )
    table.add_row(_("verdict due"), due.isoformat())
    view.console.print(table)
    if analysis.more_nights_needed:
        view.console.print(
            view.fmt(
                "{count} more nights are needed for a verdict.", count=analysis.more_nights_needed
            )
        )


def outcomes_json(analysis: TrialAnalysis) -> dict[str, Any]:
    """What `trial report --json` prints; the API's report has the same keys."""
    return summarise_trial(analysis).model_dump(mode="json")


@trial_app.command("report")
def report_command(
    as_of: AsOfOption = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML report here.")
    ] = None,
    png: Annotated[
        Path | None, typer.Option("--png", help="Write the charts as PNG files in this folder.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Per outcome: phase means, the difference with its interval, the verdict; charts."""
    analysis, nights = load_trial(db, date_option(as_of, "--as-of") if as_of else date.today())
    view = View(lang)
    if html is not None:
        html.write_text(render_html(analysis, nights, view.lang), "utf-8")
    if png is not None:
        png.mkdir(parents=True, exist_ok=True)
        for name, image in all_charts(analysis, nights, view.lang).items():
            (png / name).write_bytes(image)
    if as_json:
        print_json(outcomes_json(analysis))
        return
    _print_outcomes(view, analysis)
    for written in (html, png):
        if written is not None:
            view.console.print(view.fmt("Written: {path}", path=written))


def _print_outcomes(view: View, analysis: TrialAnalysis) -> None:
    _ = view._
    table = Table(title=_("Trial report"))
    for header in (
        _("outcome"),
        _("baseline"),
        _("magnesium"),
        _("difference (95% interval)"),
        _("verdict"),
    ):
        table.add_column(header)
    for name, result in analysis.outcomes.items():
        interval = (
            "—"
            if result.difference is None or result.ci_low is None or result.ci_high is None
            else view.fmt(
                "{d:+.1f} ({low:+.1f} to {high:+.1f})",
                d=result.difference,
                low=result.ci_low,
                high=result.ci_high,
            )
        )
        table.add_row(
            outcome_name(Outcome(name), view.lang),
            "—" if result.baseline_mean is None else view.fmt("{v:.1f}", v=result.baseline_mean),
            "—" if result.magnesium_mean is None else view.fmt("{v:.1f}", v=result.magnesium_mean),
            interval,
            verdict_name(result.verdict.value, view.lang),
        )
    view.console.print(table)
    if analysis.more_nights_needed:
        view.console.print(
            view.fmt(
                "{count} more nights are needed for a verdict.", count=analysis.more_nights_needed
            )
        )
