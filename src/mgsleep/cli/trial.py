"""`mgsleep trial …`: start the N-of-1 trial, follow it, read its verdict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from mgsleep.cli.common import (
    DbOption,
    JsonOption,
    LangOption,
    View,
    clock_option,
    date_option,
    local_store,
    print_json,
)
from mgsleep.cli.plan import read_profile
from mgsleep.errors import InputError
from mgsleep.trial.kinds import Design, Outcome, Phase

if TYPE_CHECKING:
    from mgsleep.service.trials import TrialInputs
    from mgsleep.trial.analysis import TrialAnalysis

trial_app = typer.Typer(help="The N-of-1 trial: baseline, then magnesium.", no_args_is_help=True)


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
    from mgsleep.plan import make_plan
    from mgsleep.service.trials import intake_from_plan, start_trial

    first = date_option(baseline_start, "--baseline-start")
    values: dict[str, Any] = {
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
        try:
            intake = intake_from_plan(make_plan(read_profile(profile), start=first), first)
        except InputError as error:
            raise InputError.of(replace(error.problem, field="--profile")) from error
        taken = {"form": intake.form, "dose_mg": intake.dose_mg, "intake_time": intake.intake_time}
        values |= {k: v for k, v in taken.items() if values.get(k) is None}
    try:
        with local_store(db) as (session, owner):
            protocol = start_trial(session, owner, values)
    except InputError as error:
        raise _as_option(error) from error
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


def _as_option(error: InputError) -> InputError:
    """A protocol field named as the option a person typed: magnesium_start -> --magnesium-start."""
    return InputError.of(replace(error.problem, field="--" + error.field.replace("_", "-")))


def _inputs(db: str | None) -> TrialInputs:
    from mgsleep.service.trials import trial_inputs

    with local_store(db, write=False) as (session, owner):
        return trial_inputs(session, owner)


def _analysis(db: str | None, as_of: str | None) -> tuple[TrialInputs, TrialAnalysis, Any]:
    from mgsleep.service.trials import trial_analysis

    inputs = _inputs(db)
    day = date_option(as_of, "--as-of")
    return inputs, trial_analysis(inputs, day), day


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
    from mgsleep.public import trial_status

    _, analysis, _day = _analysis(db, as_of)
    if as_json:
        print_json(trial_status(analysis))
        return
    from mgsleep.trial.labels import phase_name

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
    table.add_row(_("verdict due"), analysis.protocol.verdict_due().isoformat())
    view.console.print(table)
    _more_nights(view, analysis)


@trial_app.command("report")
def report_command(
    as_of: AsOfOption = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML report here.")
    ] = None,
    charts: Annotated[
        Path | None, typer.Option("--charts", help="Write the charts as SVG files in this folder.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Per outcome: phase means, the difference with its interval, the verdict; charts."""
    from mgsleep.service.trials import trial_charts, trial_report, trial_report_html

    inputs, analysis, day = _analysis(db, as_of)
    view = View(lang)
    if html is not None:
        html.write_text(trial_report_html(inputs, day, view.lang), "utf-8")
    if charts is not None:
        charts.mkdir(parents=True, exist_ok=True)
        for name, chart in trial_charts(inputs, day, view.lang).items():
            (charts / name).write_text(chart.document(), "utf-8")
    if as_json:
        print_json(trial_report(inputs, day))
        return
    _print_outcomes(view, analysis)
    for written in (html, charts):
        if written is not None:
            view.console.print(view.fmt("Written: {path}", path=written))


def _more_nights(view: View, analysis: TrialAnalysis) -> None:
    if analysis.more_nights_needed:
        view.console.print(
            view.fmt(
                "{count} more nights are needed for a verdict.", count=analysis.more_nights_needed
            )
        )


def _print_outcomes(view: View, analysis: TrialAnalysis) -> None:
    from mgsleep.trial.labels import outcome_name, verdict_name

    _ = view._
    table = Table(title=_("Trial report"))
    for header in (
        _("outcome"),
        _("baseline"),
        _("magnesium"),
        _("difference (95% interval)"),
        _("verdict"),
    ):
        table.add_column(header, overflow="fold")
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
    _more_nights(view, analysis)
