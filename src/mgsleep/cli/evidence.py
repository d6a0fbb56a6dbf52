"""`mgsleep forms`, `form` and `evidence`: the magnesium forms and the studies behind them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mgsleep.cli.common import JsonOption, LangOption, View, print_json

if TYPE_CHECKING:
    from mgsleep.dose import FormFacts
    from mgsleep.evidence.schema import Reference

evidence_app = typer.Typer()


@evidence_app.command("forms")
def forms_command(as_json: JsonOption = False, lang: LangOption = None) -> None:
    """Compare the magnesium forms: chemistry, measured absorption, tolerance, price."""
    from mgsleep.dose import form_facts
    from mgsleep.evidence import load_evidence

    ev = load_evidence()
    facts = [form_facts(ev, form) for form in ev.forms]
    if as_json:
        print_json(facts)
        return
    view = View(lang)
    _ = view._
    view.console.print(_forms_table(view, facts))
    view.console.print(
        _("Absorption figures come from different studies and methods; do not rank forms by them.")
        + " "
        + _("Details and sources: mgsleep form NAME")
    )


@evidence_app.command("form")
def form_command(
    name: Annotated[str, typer.Argument(help="A form, e.g. bisglycinate or 'magnesiumoxide'.")],
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """One magnesium form in full, with its citations and the article's corrections."""
    from mgsleep.dose import form_facts
    from mgsleep.evidence import load_evidence
    from mgsleep.evidence.lookup import corrections_for, find_form

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


# Columns that give way first on a narrow terminal; `mgsleep form NAME` still has them all.
NARROW_TERMINAL_COLUMNS = 100


def _forms_table(view: View, facts: list[FormFacts]) -> Table:
    """One row a form. The form's key is never cut (it wraps), so two forms are never shown
    as the same text; below 100 columns the per-100-mg, glycine and route columns give way."""
    _ = view._
    wide = view.console.width >= NARROW_TERMINAL_COLUMNS
    table = Table(title=_("Magnesium forms"), show_lines=False)
    table.add_column(_("Form"), overflow="fold", min_width=12)
    columns = [_("Mg %")]
    if wide:
        columns += [_("per 100 mg Mg"), _("glycine")]
    columns += [_("absorption measured"), _("stomach"), _("laxative"), _("price")]
    if wide:
        columns.append(_("route"))
    for header in columns:
        table.add_column(header, overflow="fold")
    for f in facts:
        absorption = (
            _("not measured")
            if f.absorption_percent_low is None
            else view.percent_range(f.absorption_percent_low, f.absorption_percent_high)
        )
        blend = f.blend_with is not None
        cells = [view.pct(f.elemental_fraction, 1) if not blend else _("blend")]
        if wide:
            cells += [
                view.mg(f.compound_mg_per_100mg_elemental) if not blend else "—",
                view.mg(f.glycine_mg_per_100mg_elemental) if not blend else "—",
            ]
        cells += [absorption, _(f.gi_tolerance), _(f.laxative_tendency), _(f.price_class)]
        if wide:
            cells.append(_(f.route.value))
        table.add_row(f.key, *cells)
    return table


@evidence_app.command("evidence")
def evidence_command(
    topic: Annotated[
        str | None, typer.Argument(help="A topic, form or companion; none lists the topics.")
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """The studies behind a topic, with their key figures and verdicts."""
    from mgsleep.evidence import load_evidence
    from mgsleep.evidence.lookup import corrections_for, references_for, resolve_topic, topics

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
