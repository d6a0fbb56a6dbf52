"""`mgsleep dose` and `label`: the chemistry of what a label says."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mgsleep.cli.common import JsonOption, LangOption, View, print_json, read_document

if TYPE_CHECKING:
    from mgsleep.label import LabelReport

dose_app = typer.Typer()


@dose_app.command("dose")
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
    from mgsleep.dose import dose_report
    from mgsleep.evidence import load_evidence
    from mgsleep.evidence.lookup import find_form

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


@dose_app.command("label")
def label_command(
    file: Annotated[Path, typer.Argument(help="A label written as YAML or JSON.")],
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Analyse a supplement label: magnesium, glycine, pathways, evidence doses, limits, cost."""
    from mgsleep.documents import parse_document
    from mgsleep.label import Label, analyse_label

    label = parse_document(read_document(file), Label)
    report = analyse_label(label)
    if as_json:
        print_json(report)
        return
    _render_label(View(lang), report)


def _render_label(view: View, report: LabelReport) -> None:
    from mgsleep.evidence import load_evidence

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
            + view.number(": {0:.2f} {1}", report.cost_per_100mg_elemental, report.currency)
        )
    if report.cost_per_100mg_absorbed_low is not None:
        out.print(
            _("cost per 100 mg absorbed")
            + view.number(
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
