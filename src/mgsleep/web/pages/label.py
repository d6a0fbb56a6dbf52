"""The label analyser: typed in rows or uploaded as a file."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mgsleep import chemistry
from mgsleep.documents import parse_document
from mgsleep.errors import InputError, Problem, problems_from
from mgsleep.errors import render as render_problem
from mgsleep.evidence import load_evidence
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.label import MAX_LABEL_BYTES, Label, LabelReport, analyse_label
from mgsleep.store.repo import Account
from mgsleep.web.deps import LocaleDep, OptionalUser
from mgsleep.web.pages.common import N_, FormCsrf, FormDep, formatters, references_for_keys, render
from mgsleep.web.pages.form_fields import form_rows, form_text, typed_number

router = APIRouter()


LABEL_ROW_COLUMNS = ("name", "amount", "basis", "elemental", "other")


LABEL_EXAMPLE = """name: Magnesium bisglycinate 200
serving: 2 capsules
servings_per_container: 60
price: 19.95
currency: EUR
ingredients:
  - name: magnesium bisglycinate
    amount_mg: 1420
    basis: compound
  - name: L-theanine
    amount_mg: 100
"""


# The core's problems with an ingredient row, by code, in the words of this form.
LABEL_ROW_REASONS = {
    "unknown_ingredient": N_(
        "mgsleep does not know this ingredient. Check the spelling, or tick “neither magnesium "
        "nor a sleep companion”."
    ),
    "unknown_ingredient_close": N_(
        "mgsleep does not know this ingredient. Did you mean {closest}? Check the spelling, or "
        "tick “neither magnesium nor a sleep companion”."
    ),
    "basis_missing": N_(
        "Say whether the amount is magnesium itself (elemental) or the whole compound."
    ),
    "elemental_needs_compound": N_(
        "The magnesium figure beside the amount only goes with an amount of the whole compound."
    ),
}


def _label_page(
    request: Request,
    lang: Lang,
    user: Account | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ev = load_evidence()
    names = sorted({f.name.get(lang) for f in ev.forms} | {c.name.get(lang) for c in ev.companions})
    report: LabelReport | None = context.get("report")
    defaults: dict[str, Any] = {
        "rows": [{"id": str(i)} for i in range(3)],
        "product": {"currency": "EUR"},
        "errors": {},
        "upload_error": None,
        "uploaded": None,
        "report": None,
    }
    return render(
        request,
        "label.html",
        lang,
        user,
        status_code=status_code,
        ev=ev,
        ingredient_names=names,
        example=LABEL_EXAMPLE,
        **formatters(lang),
        **{**defaults, **context},
        sources=references_for_keys(report.citations if report else [], ev),
    )


@router.get("/label", response_class=HTMLResponse)
def label_page(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return _label_page(request, lang, user)


@router.get("/label/row", response_class=HTMLResponse)
def label_row(request: Request, lang: LocaleDep, user: OptionalUser, n: int = 0) -> Response:
    """One more empty ingredient row (htmx; without it the form adds rows itself)."""
    row = {"id": secrets.token_hex(4)}
    return render(request, "_plan_label_row.html", lang, user, row=row, number=n, errors={})


@router.post("/label", dependencies=[FormCsrf])
def label_submit(request: Request, lang: LocaleDep, user: OptionalUser, form: FormDep) -> Response:
    """A typed label, or an uploaded YAML/JSON file, analysed by the core."""
    if "document" in form:
        return _label_upload(request, lang, user, form.get("document"))
    rows = form_rows(form, "ingredient", LABEL_ROW_COLUMNS)
    product = {k: form_text(form, k) for k in ("name", "serving", "servings", "price", "currency")}
    if form.get("action") == "add_row":
        rows.append({"id": secrets.token_hex(4)})
        return _label_page(request, lang, user, rows=rows, product=product)
    data, errors, row_ids = _typed_label(product, rows, lang)
    report = None
    if not errors:
        try:
            report = analyse_label(Label.model_validate(data))
        except ValidationError as error:
            errors = _label_errors(problems_from(error), row_ids, lang)
        except InputError as error:
            errors = {"label": error.text(lang)}
    return _label_page(
        request,
        lang,
        user,
        status_code=422 if errors else 200,
        rows=rows,
        product=product,
        errors=errors,
        report=report,
    )


def _typed_label(
    product: dict[str, str], rows: list[dict[str, str]], lang: Lang
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The typed fields as a Label document; numbers that are not numbers are errors here."""
    _ = translations(lang).gettext
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"name": product["name"], "currency": product["currency"] or "EUR"}
    if product["serving"]:
        data["serving"] = product["serving"]
    try:
        servings = typed_number(product["servings"])
        price = typed_number(product["price"])
    except ValueError:
        errors["product"] = _("Give servings as a whole number and the price as a number.")
    else:
        if servings is not None:
            data["servings_per_container"] = int(servings) if servings.is_integer() else servings
        if price is not None:
            data["price"] = price
    ingredients, row_ids = [], []
    for row in rows:
        if not any(row.get(c) for c in ("name", "amount", "elemental")):
            continue
        try:
            amount = typed_number(row["amount"])
            elemental = typed_number(row["elemental"])
        except ValueError:
            errors[f"ingredient.{row['id']}"] = _("Give amounts in mg as numbers, such as 1420.")
            continue
        entry: dict[str, Any] = {"name": row["name"], "amount_mg": amount}
        entry["other"] = bool(row["other"])
        if row["basis"] in {"elemental", "compound"}:
            entry["basis"] = row["basis"]
        if elemental is not None:
            entry["elemental_mg"] = elemental
        ingredients.append(entry)
        row_ids.append(row["id"])
    data["ingredients"] = ingredients
    return data, errors, row_ids


def _label_errors(problems: list[Problem], row_ids: list[str], lang: Lang) -> dict[str, str]:
    _ = translations(lang).gettext
    errors: dict[str, str] = {}
    for found in problems:
        location = found.field.split(".")
        field = location[0] or "label"
        if field == "ingredients" and len(location) > 1 and location[1].isdigit():
            key = f"ingredient.{row_ids[int(location[1])]}"
            errors.setdefault(key, _ingredient_reason(found, location[2:], lang))
        elif field == "ingredients":
            errors.setdefault("ingredients", _("Add at least one ingredient."))
        elif field == "name":
            errors.setdefault("name", _("Give the product a name."))
        else:
            errors.setdefault("product", _("Check the servings, price and currency."))
    return errors


def _ingredient_reason(found: Problem, column: list[str], lang: Lang) -> str:
    _ = translations(lang).gettext
    if column[:1] == ["name"] and found.code not in LABEL_ROW_REASONS:
        return _("Give the ingredient's name.")
    if column[:1] in (["amount_mg"], ["elemental_mg"]):
        return format_number(
            lang,
            _("Give amounts in mg, more than 0 and at most {limit:g}."),
            limit=chemistry.COMPOUND_MG_RANGE[1],
        )
    if found.code in LABEL_ROW_REASONS:
        return format_number(lang, _(LABEL_ROW_REASONS[found.code]), **found.params)
    return render_problem(found, lang)


def _label_upload(
    request: Request, lang: Lang, user: Account | None, upload: UploadFile | str | None
) -> HTMLResponse:
    _ = translations(lang).gettext

    def failed(message: str) -> HTMLResponse:
        return _label_page(request, lang, user, status_code=422, upload_error=message)

    if not isinstance(upload, UploadFile) or not upload.filename:
        return failed(_("Choose a file first."))
    raw = upload.file.read(MAX_LABEL_BYTES + 1)
    if len(raw) > MAX_LABEL_BYTES:
        limit = f"{MAX_LABEL_BYTES // 1000} kB"
        return failed(
            _("The file is larger than {limit}; a label is much smaller.").format(limit=limit)
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return failed(_("The file is not UTF-8 text. Save it as YAML or JSON and try again."))
    try:
        report = analyse_label(parse_document(text, Label))
    except InputError as error:
        return failed(error.text(lang))
    return _label_page(request, lang, user, report=report, uploaded=upload.filename)
