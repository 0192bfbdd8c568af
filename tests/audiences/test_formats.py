"""Each platform rule on its own, against hashes computed here on hand-normalised strings."""

from __future__ import annotations

import hashlib

from audiences import formats as f
from audiences.formats import Contact


def h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_meta_email_is_trimmed_and_lower_cased_then_hashed():
    row = f.meta_row(Contact(1, "  Jane.Doe+News@Example.COM \t"))
    assert row[0] == h("jane.doe+news@example.com")
    assert row[0] == "".join(row[0].split()) and len(row[0]) == 64 and row[0] == row[0].lower()


def test_meta_names_lose_punctuation_spaces_and_digits_but_keep_accented_letters():
    row = f.meta_row(Contact(1, "a@b.co", " Mary-Ann ", "O'Brien-Smith Jr.", "DE"))
    assert row[1] == h("maryann") and row[2] == h("obriensmithjr")
    assert f.meta_row(Contact(1, "a@b.co", "Zoë", "Pérez"))[1:3] == (h("zoë"), h("pérez"))


def test_meta_country_is_the_lower_case_iso_code_hashed_and_an_empty_value_stays_empty():
    assert f.meta_row(Contact(1, "a@b.co", None, "", " GB "))[1:] == ("", "", h("gb"))
    assert f.meta_row(Contact(1, "a@b.co", country="Germany"))[3] == ""
    assert f.FORMATS["meta"].header == ("email", "fn", "ln", "country")


def test_google_email_removes_every_space_and_lower_cases():
    assert f.google_row(Contact(1, " John Smith@Example.org "))[0] == h("johnsmith@example.org")
    assert f.google_row(Contact(1, "first.last+tag@example.org"))[0] == h("first.last+tag@example.org")


def test_google_gmail_and_googlemail_addresses_lose_the_periods_before_the_domain_only():
    assert f.google_row(Contact(1, "Jane.Q.Doe@Gmail.com"))[0] == h("janeqdoe@gmail.com")
    assert f.google_row(Contact(1, "j.doe+promo@googlemail.com"))[0] == h("jdoe+promo@googlemail.com")
    assert f.google_row(Contact(1, "j.doe@mail.gmail.com.au"))[0] == h("j.doe@mail.gmail.com.au")


def test_google_names_are_lower_cased_with_extra_spaces_removed_and_country_not_hashed():
    row = f.google_row(Contact(1, "a@b.co", "  Anne   Marie ", " DE LA Cruz", "FR"))
    assert row == (h("a@b.co"), h("anne marie"), h("de la cruz"), "fr")
    assert f.FORMATS["google"].header == ("Email", "First Name", "Last Name", "Country")


def test_plain_rows_keep_the_values_and_defuse_formulas():
    c = Contact(7, "x@y.z", "=cmd", "-1", "DE")
    assert f.csv_row(c) == (7, "x@y.z", "'=cmd", "'-1", "DE")
    assert f.json_member(c) == {"customer_id": 7, "email": "x@y.z", "first_name": "=cmd", "last_name": "-1",
                                "country": "DE"}  # fmt: skip
    assert f.FORMAT_NAMES == ("meta", "google", "csv", "json")
