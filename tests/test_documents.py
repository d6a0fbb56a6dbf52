"""Label and profile files: errors name the line and the field."""

from __future__ import annotations

import pytest

from mgsleep.documents import parse_document
from mgsleep.errors import InputError
from mgsleep.label import Label

GOOD = """\
name: Test
ingredients:
  - name: magnesium bisglycinate
    amount_mg: 200
    basis: elemental
"""


def test_a_good_label_parses():
    label = parse_document(GOOD, Label)
    assert label.ingredients[0].amount_mg == 200


def test_a_bad_amount_names_its_line_and_field():
    text = GOOD.replace("amount_mg: 200", "amount_mg: -5")
    with pytest.raises(InputError) as caught:
        parse_document(text, Label)
    assert caught.value.line == 4
    assert caught.value.field == "ingredients.0.amount_mg"
    assert caught.value.code == "greater_than"
    assert "more than 0" in str(caught.value)


def test_an_unknown_field_is_named():
    with pytest.raises(InputError) as caught:
        parse_document(GOOD + "colour: blue\n", Label)
    assert caught.value.field == "colour"
    assert caught.value.line == 6
    assert caught.value.code == "extra_forbidden"
    assert "Not a field" in str(caught.value)


def test_an_unknown_ingredient_suggests_the_closest_name():
    text = GOOD.replace("magnesium bisglycinate", "magnesium bisglycinat")
    with pytest.raises(InputError) as caught:
        parse_document(text, Label)
    message = str(caught.value)
    assert caught.value.line == 3
    assert "did you mean" in message
    assert "bisglycinate" in message


def test_a_missing_basis_for_magnesium_is_explained():
    with pytest.raises(InputError, match="elemental magnesium or the compound"):
        parse_document(GOOD.replace("    basis: elemental\n", ""), Label)


def test_broken_yaml_names_the_line():
    with pytest.raises(InputError) as caught:
        parse_document("name: [unclosed\ningredients: []\n", Label)
    assert caught.value.line is not None
    assert "not valid YAML or JSON" in str(caught.value)


def test_json_gets_line_numbers_too():
    text = (
        '{\n  "name": "x",\n  "ingredients": [\n    {"name": "glycine", "amount_mg": 0}\n  ]\n}\n'
    )
    with pytest.raises(InputError) as caught:
        parse_document(text, Label)
    assert caught.value.line == 4


def test_a_list_instead_of_a_mapping_is_refused():
    with pytest.raises(InputError, match="Expected a mapping"):
        parse_document("- a\n- b\n", Label)
