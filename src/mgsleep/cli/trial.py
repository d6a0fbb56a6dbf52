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
from mgsleep.diary.night import BlindGuess
from mgsleep.errors import InputError
from mgsleep.trial.kinds import Design, Outcome, Phase

if TYPE_CHECKING:
    from mgsleep.service.trials import TrialInputs
    from mgsleep.trial.analysis import TrialAnalysis
    from mgsleep.trial.protocol import TrialProtocol

trial_app = typer.Typer(
    help="The N-of-1 trial: randomised pairs (optionally blinded), A-B-A-B or A-B.",
    no_args_is_help=True,
)


@trial_app.command("start")
def start_command(
    baseline_start: Annotated[
        str, typer.Option("--baseline-start", help="First night of the trial (morning date).")
    ],
    magnesium_start: Annotated[
        str | None,
        typer.Option(
            "--magnesium-start",
            help="A-B, A-B-A-B: first magnesium night. Randomised: first night of the first "
            "period (default: the first night, no run-in).",
        ),
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="First night after the trial.")] = None,
    design: Annotated[
        Design,
        typer.Option(
            "--design",
            help="pairs (randomised, recommended), abba (randomised, counterbalanced), abab, "
            "or ab (fixed order: the weakest).",
        ),
    ] = Design.ab,
    period_nights: Annotated[
        int | None, typer.Option("--period-nights", help="Randomised: 7, 10 or 14.")
    ] = None,
    pairs: Annotated[int | None, typer.Option("--pairs", help="Randomised: 2 to 12.")] = None,
    washout_days: Annotated[
        int | None,
        typer.Option("--washout-days", help="A-B-A-B: 14; randomised: after each period, 0."),
    ] = None,
    blinded: Annotated[
        bool, typer.Option("--blinded", help="Randomised: a helper prepares a placebo.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Randomised, not blinded: draw from this seed.")
    ] = None,
    helper_sheet: Annotated[
        Path | None,
        typer.Option("--helper-sheet", help="Blinded: write the helper's sheet here (unread!)."),
    ] = None,
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
    """Freeze the protocol (pre-registration): design, dates, what is taken, the outcome."""
    from mgsleep.plan import make_plan
    from mgsleep.service.trials import intake_from_plan, start_trial

    first = date_option(baseline_start, "--baseline-start")
    values: dict[str, Any] = {
        "baseline_start": first,
        "magnesium_start": (
            date_option(magnesium_start, "--magnesium-start") if magnesium_start else first
        ),
        "end": date_option(end, "--end") if end else None,
        "design": design,
        "period_nights": period_nights,
        "pairs": pairs,
        "blinded": blinded,
        "seed": seed,
        "form": form,
        "dose_mg": dose_mg,
        "intake_time": clock_option(intake_time, "--intake-time") if intake_time else None,
        "primary_outcome": primary,
    }
    if washout_days is not None:
        values["washout_days"] = washout_days
    if profile is not None:
        try:
            intake = intake_from_plan(make_plan(read_profile(profile), start=first), first)
        except InputError as error:
            raise InputError.of(replace(error.problem, field="--profile")) from error
        taken = {"form": intake.form, "dose_mg": intake.dose_mg, "intake_time": intake.intake_time}
        values |= {k: v for k, v in taken.items() if values.get(k) is None}
    view = View(lang)
    try:
        with local_store(db) as (session, owner):
            protocol = start_trial(session, owner, values)
            if helper_sheet is not None:
                _write_helper_sheet(session, owner, helper_sheet, view.lang)
    except InputError as error:
        raise _as_option(error) from error
    if as_json:
        from mgsleep.public import trial_public

        print_json(trial_public(protocol))
        return
    _print_started(view, protocol)
    if helper_sheet is not None:
        view.console.print(
            view.fmt(
                "The helper's sheet is in {path}: give it to your helper without reading it.",
                path=helper_sheet,
            )
        )


def _write_helper_sheet(session: Any, owner: int, path: Path, lang: Any) -> None:
    from mgsleep.clock import today_in
    from mgsleep.service.trials import helper_sheet_html

    path.write_text(helper_sheet_html(session, owner, today_in(None), lang), "utf-8")


def _print_started(view: View, protocol: TrialProtocol) -> None:
    from mgsleep.trial.allocation import short_fingerprint
    from mgsleep.trial.registration import registration_hash

    if protocol.randomised:
        view.console.print(
            view.fmt(
                "Trial set: {pairs} pairs of {nights}-night periods from {first}, in an order "
                "drawn at random; the verdict is due on {due} if you log every night.",
                pairs=protocol.pairs,
                nights=protocol.period_days,
                first=protocol.magnesium_start.isoformat(),
                due=protocol.verdict_due().isoformat(),
            )
        )
    else:
        view.console.print(
            view.fmt(
                "Trial set: baseline from {baseline}, magnesium from {magnesium}; the verdict is "
                "due on {due} if you log every night.",
                baseline=protocol.baseline_start.isoformat(),
                magnesium=protocol.magnesium_start.isoformat(),
                due=protocol.verdict_due().isoformat(),
            )
        )
    view.console.print(
        view.fmt(
            "Protocol fingerprint (pre-registration): {digest}", digest=registration_hash(protocol)
        )
    )
    if protocol.allocation_fingerprint:
        view.console.print(
            view.fmt(
                "Allocation fingerprint: {digest}",
                digest=short_fingerprint(protocol.allocation_fingerprint),
            )
        )


def _as_option(error: InputError) -> InputError:
    """A protocol field named as the option a person typed: magnesium_start -> --magnesium-start."""
    return InputError.of(replace(error.problem, field="--" + error.field.replace("_", "-")))


def _inputs(db: str | None) -> TrialInputs:
    from mgsleep.clock import today_in
    from mgsleep.service.trials import trial_inputs

    with local_store(db, write=False) as (session, owner):
        # Today, not --as-of, opens a blinded trial: a date typed cannot open it early.
        return trial_inputs(session, owner, today_in(None))


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
    from mgsleep.service.trials import trial_status

    inputs, analysis, day = _analysis(db, as_of)
    status = trial_status(inputs, day)
    if as_json:
        print_json(status)
        return
    from mgsleep.trial.labels import phase_name

    view = View(lang)
    _ = view._
    table = Table(show_header=False)
    table.add_column()
    table.add_column(justify="right")
    if status.allocation_sealed:
        table.add_row(_("nights logged"), str(status.nights_logged))
    for phase, count in status.nights_by_phase.items():
        table.add_row(phase_name(Phase(phase), view.lang), str(count))
    table.add_row(_("missing nights"), str(analysis.missing_nights))
    table.add_row(
        _("adherence"),
        view.pct(None if analysis.adherence_pct is None else analysis.adherence_pct / 100),
    )
    table.add_row(_("verdict due"), analysis.protocol.verdict_due().isoformat())
    view.console.print(table)
    if status.allocation_sealed and status.allocation_opens_on is not None:
        view.console.print(
            view.fmt(
                "The trial is blinded: its results open on {date}.",
                date=status.allocation_opens_on.isoformat(),
            )
        )
        return
    _more_nights(view, analysis)


@trial_app.command("power")
def power_command(
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """How many nights each design needs for an 80% chance of showing the smallest change
    that matters; with a trial running, its own chance at its planned length."""
    from mgsleep.clock import today_in
    from mgsleep.service.trials import power_inputs, power_outlook
    from mgsleep.trial.labels import (
        change_unit,
        outcome_name,
        power_designs,
        power_source_note,
    )

    today = today_in(None)
    with local_store(db, write=False) as (session, owner):
        inputs = power_inputs(session, owner, today)
    found = power_outlook(inputs, today)
    if as_json:
        print_json(found)
        return
    view = View(lang)
    _ = view._
    plan, trial = found.plan, found.trial
    what = {
        "change": plan.smallest_change,
        "unit": change_unit(found.outcome, view.lang),
        "outcome": outcome_name(found.outcome, view.lang).lower(),
    }
    if trial is not None:
        view.console.print(
            view.fmt(
                "Your trial as planned ({nights} nights) has a {power:.0f}% chance of showing a "
                "change of {change:g} {unit} in {outcome}, if magnesium brings that much.",
                nights=trial.nights,
                power=100 * trial.power,
                **what,
            )
        )
    table = Table(title=view.fmt("Nights for an 80% chance of showing {change:g} {unit}", **what))
    table.add_column(_("Design"))
    table.add_column(_("Nights"), justify="right")
    for name, design in power_designs(plan.designs, view.lang):
        table.add_row(name, str(design.nights) if design.nights else _("more than a year"))
    view.console.print(table)
    sealed = inputs.protocol is not None and inputs.protocol.sealed
    note = power_source_note(
        found.source, found.nights_used, view.lang, running=trial is not None, sealed=sealed
    )
    view.console.print(note)


@trial_app.command("report")
def report_command(
    as_of: AsOfOption = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML report here.")
    ] = None,
    charts: Annotated[
        Path | None, typer.Option("--charts", help="Write the charts as SVG files in this folder.")
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the report as PDF here.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Per outcome: phase means, the difference with its interval, the verdict; charts."""
    from mgsleep.service.trials import (
        ensure_open,
        trial_charts,
        trial_report,
        trial_report_html,
        trial_report_pdf,
    )

    inputs, analysis, day = _analysis(db, as_of)
    ensure_open(inputs.protocol)
    view = View(lang)
    if pdf is not None:
        pdf.write_bytes(trial_report_pdf(inputs, day, view.lang))
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
    for written in (html, pdf, charts):
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


@trial_app.command("guess")
def guess_command(
    night: Annotated[str, typer.Option("--night", help="The night (morning date).")],
    guess: Annotated[BlindGuess, typer.Option("--guess", help="Blinded: what you think you took.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Blinded trial: note which you think you took last night (magnesium, placebo, unsure)."""
    from mgsleep.public import night_public
    from mgsleep.service.trials import record_guess

    day = date_option(night, "--night")
    with local_store(db) as (session, owner):
        entry = record_guess(session, owner, day, guess)
    if as_json:
        print_json(night_public(entry))
        return
    view = View(lang)
    view.console.print(view.fmt("Guess noted for the night of {date}.", date=day.isoformat()))


@trial_app.command("helper-sheet")
def helper_sheet_command(
    out: Annotated[Path, typer.Option("--out", help="Write the sheet here, for the helper.")],
    db: DbOption = None,
    lang: LangOption = None,
) -> None:
    """Blinded trial: the helper's preparation sheet (until the first period starts)."""
    view = View(lang)
    with local_store(db, write=False) as (session, owner):
        _write_helper_sheet(session, owner, out, view.lang)
    view.console.print(view.fmt("Written: {path}", path=out))
