"""`mgsleep screen` and `plan`: the safety screen, then the plan and its evening."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from mgsleep.cli.common import (
    JsonOption,
    LangOption,
    View,
    clock_option,
    date_option,
    print_json,
    read_document,
)

if TYPE_CHECKING:
    from mgsleep.plan import Plan
    from mgsleep.profile import Profile
    from mgsleep.safety import Finding
    from mgsleep.schedule import Timeline

plan_app = typer.Typer()

ProfileArgument = Annotated[
    Path, typer.Argument(metavar="PROFILE", help="A profile written as YAML or JSON.")
]


def read_profile(path: Path) -> Profile:
    from mgsleep.documents import parse_document
    from mgsleep.profile import Profile

    return parse_document(read_document(path, "PROFILE"), Profile)


SEVERITY_STYLE = {"stop": "bold white on red", "caution": "bold black on yellow", "info": "bold"}


def _print_findings(view: View, findings: list[Finding]) -> None:
    _ = view._
    if not findings:
        view.console.print(_("No safety findings."))
    for finding in findings:
        label = _(finding.severity.value).upper()
        style = SEVERITY_STYLE[finding.severity.value]
        view.console.print(
            f"[{style}] {label} [/] {view.text(finding.message)}\n"
            f"    → {view.text(finding.management)} {view.cite(finding.citations)}"
        )


@plan_app.command("screen")
def screen_command(
    profile_file: ProfileArgument, as_json: JsonOption = False, lang: LangOption = None
) -> None:
    """The safety screen: conditions, medicines and supplements against magnesium.

    Exits 0 even with a stop finding: that is an answer, not an error.
    """
    from mgsleep.public import screen_result
    from mgsleep.safety import screen

    findings = screen(read_profile(profile_file))
    view = View(lang)
    if as_json:
        print_json(screen_result(findings, view.lang))
        return
    _print_findings(view, findings)


@plan_app.command("plan")
def plan_command(
    profile_file: ProfileArgument,
    bedtime: Annotated[
        str | None, typer.Option("--bedtime", help="Usual bedtime HH:MM (default: profile's).")
    ] = None,
    ics: Annotated[
        Path | None, typer.Option("--ics", help="Write the evening schedule as an .ics file.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="First evening, YYYY-MM-DD (default: today).")
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Findings first, then the plan with its reasons, then the evening on the clock."""
    profile = read_profile(profile_file)
    if bedtime is not None:
        profile = profile.model_copy(update={"bedtime": clock_option(bedtime, "--bedtime")})
    from mgsleep.public import plan_public
    from mgsleep.schedule import plan_for

    first_evening = date_option(start, "--start")
    planned = plan_for(profile, first_evening)
    view = View(lang)
    if ics is not None:
        from mgsleep.ical import plan_calendar

        ics.write_bytes(plan_calendar(planned.plan, first_evening, view.lang))
    if as_json:
        print_json(plan_public(planned.plan, planned.evening, view.lang))
        return
    _render_plan(view, planned.plan, planned.evening)
    if ics is not None:
        view.console.print(view.fmt("Calendar written to {path}", path=ics))


def _render_plan(view: View, plan: Plan, timeline: Timeline) -> None:
    from mgsleep.schedule import to_text

    _ = view._
    out = view.console
    _print_findings(view, plan.findings)
    out.print("\n[bold]" + _("Verdict") + f": {_(plan.verdict.value).upper()}[/]")
    out.print(view.text(plan.headline))
    for question in plan.doctor_questions:
        out.print(f"• {view.text(question.text)} {view.cite(question.citations)}")
    if plan.form_choice is not None:
        out.print("\n[bold]" + _("Form") + f": {view.text(plan.form_choice.name)}[/]")
        for reason in plan.form_choice.reasons:
            out.print(f"  {view.text(reason.text)} {view.cite(reason.citations)}")
        for alternative in plan.form_choice.alternatives:
            out.print(f"  [dim]– {view.text(alternative.reason.text)}[/]")
    sections = [
        *(plan.dose.reasons if plan.dose else []),
        *([plan.glycine.reason] if plan.glycine else []),
        *(c.reason for c in plan.companions),
        *(c.reason for c in plan.excluded_companions),
        *([*plan.bath.salts, plan.bath.verdict, *plan.bath.safety] if plan.bath else []),
        *([plan.expectations.reason] if plan.expectations else []),
        *plan.context,
    ]
    out.print()
    for reason in sections:
        out.print(f"• {view.text(reason.text)} {view.cite(reason.citations)}")
    if plan.companions:
        out.print("\n[bold]" + _("Companions") + "[/]")
        for c in plan.companions:
            strength = _("Strength of the evidence") + ": " + _(c.evidence_strength.value)
            out.print(f"  {view.text(c.name)}: {c.dose_mg:.0f} mg ({strength})")
    out.print("\n[bold]" + _("This evening") + "[/]")
    out.print(escape(to_text(timeline, view.lang)))
