"""The mapping model and the inspector's guesses, pure (no database)."""

from __future__ import annotations

import pytest

from ingest.inspect import detect_decimal, detect_dialect, detect_encoding, guess_type, slug
from ingest.mapping import MappingError, parse_mapping
from ingest.values import country_code, parse_number

MINIMAL = """crm:
  fields:
    customer_id: id
    first_name: fn
    last_name: ln
    email: mail
    country: land
    age: age
    total_spent: spent
    favorite_color: color
"""


def test_encodings_dialects_and_decimals_are_detected():
    assert detect_encoding("Köln".encode()) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + "Köln".encode()) == "utf-8-sig"
    assert detect_encoding("Köln".encode("cp1252")) == "cp1252"
    assert detect_dialect("a;b;c\n1;2;3\n") == (";", '"', 1)
    assert detect_dialect("sep=|\na|b\n1|2\n")[::2] == ("|", 2)
    assert detect_decimal([{"x": "12,50"}], ";") == ","
    assert parse_number("1.234,56", ",") == parse_number("1,234.56", ".") and parse_number("01.06.2024", ",") is None


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["ja", "nein", "ja"], "boolean"),
        (["1", "12", "7"], "integer"),
        (["1,5", "2,25"], "number"),
        (["01.02.2025", "31.12.2024"], "date"),
        (["gold", "gold", "silver", "gold"], "category"),
        ([f"note {i}" for i in range(40)], "text"),
    ],
)
def test_a_columns_type_is_guessed_from_its_values(values, kind):
    decimal = "," if kind == "number" else "."
    assert guess_type(values, decimal).type == kind


def test_names_and_countries():
    assert slug("Größe (cm)") == "groesse_cm" and slug("2nd Tier") == "attr_2nd_tier"
    assert country_code("Germany") == country_code("DEU") == "DE" and country_code("Atlantis") is None


def test_a_mapping_without_attributes_or_created_at_loads():
    m = parse_mapping(MINIMAL).mapping
    assert "created_at" not in m.crm.fields
    assert m.events is None and m.crm.attributes == {}


def test_a_mapping_may_leave_any_optional_field_out():
    m = parse_mapping(MINIMAL.replace("    email: mail\n", "").replace("    age: age\n", "")).mapping
    assert "email" not in m.crm.fields and "age" not in m.crm.fields


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (MINIMAL + "  attributes:\n    tier:\n      column: t\n      type: colour\n", 14, "type"),
        (MINIMAL.replace("    customer_id: id\n", ""), 2, "crm.fields.customer_id names no column"),  # required
        (MINIMAL + "  attributes:\n    Tier Level:\n      column: t\n      type: category\n", 12, "'tier_level'"),
        (MINIMAL + "  attributes:\n    ok:\n      column: t\n      type: text\n      role: consent\n", 15, "boolean"),
        (MINIMAL + "  attributes:\n    d:\n      column: t\n      type: date\n", 14, "format"),
        (MINIMAL.replace("    age: age", "    shoe_size: age"), 8, "not a built-in field"),
        ("crm: [unclosed\n", 2, "not valid YAML"),
    ],
)
def test_bad_mappings_name_their_line_and_the_fix(text, line, words):
    with pytest.raises(MappingError) as refused:
        parse_mapping(text, "m.yml")
    assert f"m.yml line {line}" in str(refused.value) and words in str(refused.value)
