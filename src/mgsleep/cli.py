"""The `mgsleep` command: parse, call one core function, render (people: tables; machines: JSON)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mgsleep.cli_common import (
    InputErrorGroup,
    JsonOption,
    LangOption,
    View,
    clock_option,
    date_option,
    print_json,
    read_document,
)
from mgsleep.cli_diary import diary_app
from mgsleep.cli_import import import_command
from mgsleep.cli_isi import isi_command
from mgsleep.cli_serve import serve_command
from mgsleep.cli_trial import trial_app
from mgsleep.documents import parse_document
from mgsleep.dose import dose_report, form_facts
from mgsleep.evidence import load_evidence
from mgsleep.evidence.lookup import (
    corrections_for,
    find_form,
    references_for,
    resolve_topic,
    topics,
)
from mgsleep.evidence.schema import Reference
from mgsleep.i18n import Lang, format_number
from mgsleep.label import Label, LabelReport, analyse_label
from mgsleep.plan import Plan, make_plan
from mgsleep.profile import Profile
from mgsleep.safety import Finding, screen
from mgsleep.schedule import Timeline, evening, to_ical, to_text

app = typer.Typer(
    cls=InputErrorGroup,
    help="Magnesium for sleep: forms, doses, labels and the evidence behind them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --- forms ---------------------------------------------------------------------------------


@app.command("forms")
def forms_command(as_json: JsonOption = False, lang: LangOption = None) -> None:
    """Compare the magnesium forms: chemistry, measured absorption, tolerance, price."""
    ev = load_evidence()
    facts = [form_facts(ev, form) for form in ev.forms]
    if as_json:
        print_json(facts)
        return
    view = View(lang)
    _ = view._
    table = Table(title=_("Magnesium forms"), show_lines=False)
    for header in (
        _("Form"),
        _("Mg %"),
        _("per 100 mg Mg"),
        _("glycine"),
        _("absorption measured"),
        _("stomach"),
        _("laxative"),
        _("price"),
        _("route"),
    ):
        table.add_column(header)
    for f in facts:
        absorption = (
            _("not measured")
            if f.absorption_percent_low is None
            else view.percent_range(f.absorption_percent_low, f.absorption_percent_high)
        )
        table.add_row(
            f.key,
            view.pct(f.elemental_fraction, 1) if f.blend_with is None else _("blend"),
            view.mg(f.compound_mg_per_100mg_elemental) if f.blend_with is None else "—",
            view.mg(f.glycine_mg_per_100mg_elemental) if f.blend_with is None else "—",
            absorption,
            _(f.gi_tolerance),
            _(f.laxative_tendency),
            _(f.price_class),
            _(f.route.value),
        )
    view.console.print(table)
    view.console.print(
        _("Absorption figures come from different studies and methods; do not rank forms by them.")
        + " "
        + _("Details and sources: mgsleep form NAME")
    )


@app.command("form")
def form_command(
    name: Annotated[str, typer.Argument(help="A form, e.g. bisglycinate or 'magnesiumoxide'.")],
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """One magnesium form in full, with its citations and the article's corrections."""
    ev = load_evidence()
    form = find_form(name, ev)
    facts = form_facts(ev, form)
    corrections = corrections_for(form.key, ev)
    if as_json:
        print_json(
            {
                **facts.model_dump(mode="json"),
                "absorption": [a.model_dump(mode="json") for a in form.absorption],
                "corrections": [c.model_dump(mode="json") for c in corrections],
            }
        )
        return
    view = View(lang)
    _ = view._
    out = view.console
    out.print(f"[bold]{view.text(form.name)}[/] [dim]({form.key})[/]")
    out.print(
        view.fmt(
            "Formula {formula}, {mass:.2f} g/mol, {pct:.2f}% magnesium by weight.",
            formula=facts.formula,
            mass=facts.molar_mass_g_per_mol,
            pct=facts.elemental_fraction * 100,
        )
        if form.blend_with is None
        else view.fmt(
            "A blend with {partner}; its make-up differs per product.", partner=form.blend_with
        )
    )
    if facts.glycine_mg_per_100mg_elemental is not None and form.blend_with is None:
        out.print(
            view.fmt(
                "Every 100 mg magnesium comes with {glycine:.0f} mg glycine.",
                glycine=facts.glycine_mg_per_100mg_elemental,
            )
        )
    out.print("\n[bold]" + _("Absorption") + "[/]")
    if not form.absorption:
        out.print(_("No study measured this form's fractional absorption."))
    for a in form.absorption:
        pct = a.percent.value if a.percent.value is not None else a.percent.low
        source = view.cite(a.percent.cite)
        out.print(f"• {pct}% — {view.text(a.population)}; {view.text(a.method)} {source}")
    out.print(view.text(form.absorption_comparability))
    out.print("\n[bold]" + _("Best for") + f"[/]: {view.text(form.best_for)}")
    out.print("[bold]" + _("Consider") + f"[/]: {view.text(form.consider)}")
    traits = (
        (_("stomach"), _(facts.gi_tolerance)),
        (_("laxative"), _(facts.laxative_tendency)),
        (_("price"), _(facts.price_class)),
        (_("route"), _(facts.route.value)),
    )
    out.print(" · ".join(f"{name}: {value}" for name, value in traits))
    if form.pathways:
        names = ", ".join(view.text(ev.pathway(p).name) for p in form.pathways)
        out.print("" + _("Pathways") + f": {names}")
    _print_corrections(view, corrections)
    out.print("\n" + _("Sources") + f": {view.cite(facts.citations)}")


def _print_corrections(view: View, corrections: list[Any]) -> None:
    _ = view._
    for c in corrections:
        view.console.print(
            "\n[bold yellow]" + _("The article says") + f":[/] {view.text(c.article_says)}\n"
            f"[bold green]" + _("The research found") + f":[/] {view.text(c.research_found)} "
            f"{view.cite(c.cite)}"
        )


# --- dose ----------------------------------------------------------------------------------


@app.command("dose")
def dose_command(
    form: Annotated[str, typer.Option("--form", help="The form, e.g. bisglycinate.")],
    elemental: Annotated[
        float | None, typer.Option("--elemental", help="Elemental magnesium, mg.")
    ] = None,
    compound: Annotated[
        float | None, typer.Option("--compound", help="The compound as weighed, mg.")
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Compound, elemental, glycine, estimated absorbed and share of the upper limits."""
    ev = load_evidence()
    report = dose_report(ev, find_form(form, ev), elemental_mg=elemental, compound_mg=compound)
    if as_json:
        print_json(report)
        return
    view = View(lang)
    _ = view._
    table = Table(title=f"{view.text(ev.form(report.form).name)}", show_header=False)
    table.add_column()
    table.add_column(justify="right")
    table.add_row(_("compound"), view.mg(report.compound_mg))
    table.add_row(_("elemental magnesium"), view.mg(report.elemental_mg))
    if report.glycine_mg is not None:
        table.add_row(_("glycine"), view.mg(report.glycine_mg))
        table.add_row(_("glycine short of the 3 g trial dose"), view.mg(report.glycine_gap_mg))
    absorbed = (
        _("not measured for this form")
        if report.absorbed_mg_low is None or report.absorbed_mg_high is None
        else view.mg_range(report.absorbed_mg_low, report.absorbed_mg_high)
    )
    table.add_row(_("estimated absorbed"), absorbed)
    if report.magnesium_from_main_form_share is not None:
        table.add_row(
            _("magnesium from the named form"), view.pct(report.magnesium_from_main_form_share)
        )
    for region, share, limit in (
        ("EU", report.upper_limit_share_eu, report.upper_limit_mg_eu),
        ("US", report.upper_limit_share_us, report.upper_limit_mg_us),
    ):
        if share is not None:
            table.add_row(
                view.fmt(
                    "share of the {region} upper limit ({limit:.0f} mg)", region=region, limit=limit
                ),
                view.pct(share),
            )
    view.console.print(table)
    for note in report.notes:
        view.console.print(view.text(note))
    view.console.print("" + _("Sources") + f": {view.cite(report.citations)}")


# --- label ---------------------------------------------------------------------------------


@app.command("label")
def label_command(
    file: Annotated[Path, typer.Argument(help="A label written as YAML or JSON.")],
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Analyse a supplement label: magnesium, glycine, pathways, evidence doses, limits, cost."""
    label = parse_document(read_document(file), Label)
    report = analyse_label(label)
    if as_json:
        print_json(report)
        return
    _render_label(View(lang), report)


def _render_label(view: View, report: LabelReport) -> None:
    _ = view._
    ev = load_evidence()
    table = Table(
        title=escape(report.name) + (f" — {escape(report.serving)}" if report.serving else "")
    )
    for header in (_("ingredient"), _("amount"), _("magnesium"), _("glycine"), _("trial dose")):
        table.add_column(header)
    for item in report.ingredients:
        trial = (
            f"{view.mg(item.evidence_dose_mg)} ({view.pct(item.share_of_evidence_dose)})"
            if item.evidence_dose_mg
            else "—"
        )
        table.add_row(
            escape(item.name) + ("" if item.key else " [dim](" + _("not analysed") + ")[/]"),
            view.mg(item.amount_mg),
            view.mg(item.elemental_mg),
            view.mg(item.glycine_mg),
            trial,
        )
    table.add_row(
        "[bold]" + _("per serving") + "[/]",
        "",
        f"[bold]{view.mg(report.elemental_mg)}[/]",
        f"[bold]{view.mg(report.glycine_mg)}[/]",
        "",
    )
    out = view.console
    out.print(table)
    if report.absorbed_mg_low is not None:
        absorbed = view.mg_range(report.absorbed_mg_low, report.absorbed_mg_high or 0.0)
        if not report.absorption_complete:
            absorbed += " " + _("(forms without a measured figure left out)")
        out.print("" + _("estimated absorbed") + f": {absorbed}")
    pathways = ", ".join(view.text(ev.pathway(p).name) for p in report.pathways) or "—"
    out.print("" + _("Pathways") + f": {pathways}")
    for region, share in (("EU", report.upper_limit_share_eu), ("US", report.upper_limit_share_us)):
        if share is not None:
            out.print(
                view.fmt("share of the {region} upper limit", region=region)
                + f": {view.pct(share)}"
            )
    if report.cost_per_100mg_elemental is not None:
        out.print(
            _("cost per 100 mg magnesium")
            + format_number(
                view.lang, ": {0:.2f} {1}", report.cost_per_100mg_elemental, report.currency
            )
        )
    if report.cost_per_100mg_absorbed_low is not None:
        out.print(
            _("cost per 100 mg absorbed")
            + format_number(
                view.lang,
                ": {0:.2f}–{1:.2f} {2}",
                report.cost_per_100mg_absorbed_low,
                report.cost_per_100mg_absorbed_high,
                report.currency,
            )
        )
    for item in report.ingredients:
        for note in item.notes:
            out.print(f"• {escape(item.name)}: {view.text(note)}")
    for note in report.notes:
        out.print(f"[yellow]![/] {view.text(note)}")
    out.print(_("Sources") + f": {view.cite(report.citations)}")


# --- screen and plan --------------------------------------------------------------------


def _read_profile(path: Path) -> Profile:
    return parse_document(read_document(path), Profile)


def _finding_json(finding: Finding, lang: Lang) -> dict[str, Any]:
    separation = finding.separation
    return {
        "severity": finding.severity.value,
        "code": finding.code,
        "subject": finding.subject,
        "message": finding.message.get(lang),
        "management": finding.management.get(lang),
        "citations": finding.citations,
        "substance": finding.substance,
        "read_as": finding.read_as,
        "separation": None
        if separation is None
        else {
            "medicine_before_mg_h": separation.medicine_before_mg_h,
            "medicine_after_mg_h": separation.medicine_after_mg_h,
        },
        "pause_until": None if finding.pause_until is None else finding.pause_until.isoformat(),
    }


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


@app.command("screen")
def screen_command(
    profile_file: Annotated[
        Path, typer.Argument(metavar="PROFILE", help="A profile written as YAML or JSON.")
    ],
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """The safety screen: conditions, medicines and supplements against magnesium.

    Exits 0 even with a stop finding: that is an answer, not an error.
    """
    findings = screen(_read_profile(profile_file))
    view = View(lang)
    if as_json:
        print_json({"findings": [_finding_json(f, view.lang) for f in findings]})
        return
    _print_findings(view, findings)


@app.command("plan")
def plan_command(
    profile_file: Annotated[
        Path, typer.Argument(metavar="PROFILE", help="A profile written as YAML or JSON.")
    ],
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
    profile = _read_profile(profile_file)
    if bedtime is not None:
        profile = profile.model_copy(update={"bedtime": clock_option(bedtime, "--bedtime")})
    first_evening = date_option(start, "--start") if start else date.today()
    plan = make_plan(profile, start=first_evening)
    timeline = evening(plan, night=first_evening)
    view = View(lang)
    if ics is not None:
        days = 7 * (plan.expectations.evaluate_after_weeks if plan.expectations else 4)
        calendar = evening(plan, night=plan.start_date or first_evening)
        ics.write_bytes(to_ical(calendar, view.lang, days=days))
    if as_json:
        print_json(_plan_json(plan, timeline, view.lang))
        return
    _render_plan(view, plan, timeline)
    if ics is not None:
        view.console.print(view.fmt("Calendar written to {path}", path=ics))


def _plan_json(plan: Plan, timeline: Timeline, lang: Lang) -> dict[str, Any]:
    return {
        "verdict": plan.verdict.value,
        "headline": plan.headline.get(lang),
        "start_date": None if plan.start_date is None else plan.start_date.isoformat(),
        "paused_until": None if plan.paused_until is None else plan.paused_until.isoformat(),
        "findings": [_finding_json(f, lang) for f in plan.findings],
        "form": plan.form,
        "elemental_mg": plan.elemental_mg,
        "compound_mg": plan.compound_mg,
        "glycine_mg_total": plan.glycine_mg_total,
        "glycine_topup_mg": plan.glycine_topup_mg,
        "companions": [
            {
                "key": c.key,
                "dose_mg": c.dose_mg,
                "pathways": c.pathways,
                "evidence_strength": c.evidence_strength.value,
            }
            for c in plan.companions
        ],
        "timeline": [
            {
                "start": e.start.isoformat(),
                "end": e.end.isoformat(),
                "kind": e.kind,
                "what": e.what.get(lang),
            }
            for e in timeline.entries
        ],
        "conflicts": [c.message.get(lang) for c in timeline.conflicts],
        "notes": [n.get(lang) for n in timeline.notes],
        "citations": plan.citations,
        "plan": plan.model_dump(mode="json"),
    }


def _render_plan(view: View, plan: Plan, timeline: Timeline) -> None:
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


# --- evidence ------------------------------------------------------------------------------


@app.command("evidence")
def evidence_command(
    topic: Annotated[
        str | None, typer.Argument(help="A topic, form or companion; none lists the topics.")
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """The studies behind a topic, with their key figures and verdicts."""
    ev = load_evidence()
    if topic is None:
        counts = topics(ev)
        if as_json:
            print_json(counts)
            return
        view = View(lang)
        table = Table(title=view._("Topics"))
        table.add_column(view._("topic"))
        table.add_column(view._("references"), justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count))
        view.console.print(table)
        return
    key = resolve_topic(topic, ev)
    references = references_for(key, ev)
    corrections = corrections_for(key, ev)
    if as_json:
        print_json(
            {
                "topic": key,
                "references": [r.model_dump(mode="json") for r in references],
                "corrections": [c.model_dump(mode="json") for c in corrections],
            }
        )
        return
    view = View(lang)
    for reference in references:
        _print_reference(view, reference)
    _print_corrections(view, corrections)


def _print_reference(view: View, r: Reference) -> None:
    _ = view._
    ids = " ".join(
        part
        for part in (
            f"PMID {r.pmid}" if r.pmid else "",
            f"doi:{r.doi}" if r.doi else "",
            r.citation or "",
        )
        if part
    )
    flag = "" if r.verified else " [yellow](" + _("details unverified") + ")[/]"
    view.console.print(
        f"\n[bold]{escape(r.authors)} ({r.year})[/] {escape(r.title)}. [i]{escape(r.journal)}[/] "
        f"{escape(ids)} [dim][{r.key}][/]{flag}"
    )
    n = f", n={r.n}" if r.n else ""
    view.console.print(f"{escape(r.design)}{n}. {view.text(r.summary)}")
    for figure in r.key_figures:
        view.console.print(f"  • {view.text(figure)}")
    if r.verdict is not None:
        view.console.print("  [bold yellow]" + _("Verdict") + f":[/] {view.text(r.verdict)}")


app.add_typer(diary_app, name="diary")
app.add_typer(trial_app, name="trial")
app.command("isi")(isi_command)
app.command("serve")(serve_command)
app.command("import")(import_command)


def main() -> None:
    app()
