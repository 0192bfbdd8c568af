"""An export in another layout goes through inspect → mapping → run: every customer and event
loads, the extra columns become typed custom attributes equal to pandas over the file, and
gzip / Parquet copies of it give identical tables."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cdp.db import get_engine
from cdp.reader import reader_engine
from discovery.service import Discovery
from ingest import InputFileError, run
from ingest.mapped_run import STORED_EMPTY
from ingest.mapping import parse_mapping


def _table(settings, sql: str) -> list[tuple]:
    with get_engine(settings).connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_the_proposed_mapping_loads_unedited_with_the_right_guesses(mapping_file):
    m = parse_mapping(mapping_file.read_text(encoding="utf-8")).mapping
    assert (m.crm.encoding, m.crm.delimiter, m.crm.decimal) == ("cp1252", ";", ",")
    assert {k: f.column for k, f in m.crm.fields.items()} == {
        "customer_id": "Kunden-ID", "first_name": "Vorname", "last_name": "Nachname", "email": "E-Mail-Adresse",
        "country": "Land", "age": "Alter", "total_spent": "Umsatz", "favorite_color": "Lieblingsfarbe",
        "created_at": "Anmeldedatum",
    }  # fmt: skip
    assert m.crm.fields["created_at"].format == "%d.%m.%Y"
    types = {n: a.type for n, a in m.crm.attributes.items()}
    assert types == {
        "loyalty_tier": "category", "stadt": "category", "signup_source": "category",
        "e_mail_opt_in": "boolean", "lifetime_orders": "integer", "tags": "category", "joined": "date",
    }  # fmt: skip
    assert m.crm.attributes["e_mail_opt_in"].role == "consent"
    assert m.events.fields["event_timestamp"].format == "%d.%m.%Y %H:%M"


def test_every_customer_and_event_loads_equal_to_pandas(loaded, export):
    df = export.customers
    rows = _table(loaded, "SELECT customer_id, email, country, total_spent, created_at FROM customers ORDER BY 1")
    assert len(rows) == len(df)
    expected = [
        (int(r["Kunden-ID"]), r["E-Mail-Adresse"], r["Land"], Decimal(r["Umsatz"].replace(",", ".")),
         datetime.strptime(r["Anmeldedatum"], "%d.%m.%Y"))
        for _, r in df.sort_values("Kunden-ID").iterrows()
    ]  # fmt: skip
    assert rows == expected
    assert _table(loaded, "SELECT count(*) FROM events") == [(export.event_rows,)]
    attrs = _table(
        loaded, "SELECT customer_id, loyalty_tier, stadt, e_mail_opt_in, lifetime_orders FROM customer_attributes"
    )
    truth = {
        (int(r["Kunden-ID"]), r["Loyalty Tier"], r["Stadt"], r["E-Mail Opt-in"] == "ja", int(r["Lifetime Orders"]))
        for _, r in df.iterrows()
    }
    assert set(attrs) == truth
    assert {r[2] for r in attrs} >= {"München", "Köln", "Düsseldorf"}


def test_gzip_and_parquet_copies_give_identical_tables(settings, export, mapping_file, tmp_path):
    gz = tmp_path / "export.csv.gz"
    with open(export.crm, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    dumps: list = []

    def dump(stage: str) -> None:
        if stage == "validate":
            dumps.append(_dump(settings))

    run(settings, gz, export.events, mapping=mapping_file, embed=False, after_stage=dump)
    parquet = tmp_path / "export.parquet"
    pd.read_csv(export.crm, sep=";", encoding="cp1252", dtype=str, keep_default_na=False).rename(
        columns=lambda c: c.removeprefix("ï»¿")
    ).to_parquet(parquet)
    run(settings, parquet, export.events, mapping=mapping_file, force=True, embed=False, after_stage=dump)
    assert len(dumps) == 2 and dumps[0] == dumps[1]
    assert len(dumps[0][0]) == len(export.customers) and len(dumps[0][1]) == len(export.customers)


def _dump(settings):
    return (
        _table(settings, "SELECT * FROM customers_new ORDER BY 1"),
        _table(settings, "SELECT * FROM customer_attributes_new ORDER BY 1"),
        _table(settings, "SELECT event_id, customer_id, price, event_timestamp FROM events_new ORDER BY 1"),
    )


BAD_MAPPINGS = [
    # (the edit to the proposed mapping, the line it is on, words of the refusal)
    ('    email: "E-Mail-Adresse"', '    email: "Email"', "lacks"),
    ("      type: integer", "      type: boolean", "Write `type: integer`"),
    ('    last_name: "Nachname"', '    last_name: "Vorname"', "both read the column"),
    ("    loyalty_tier:", "    country:", "collides with a built-in field"),
    (
        '    event_timestamp: {column: "Zeitstempel", format: "%d.%m.%Y %H:%M"}',
        '    event_timestamp: {column: "Zeitstempel", format: "%m/%d/%Y %H:%M"}',
        "Write `format: '%d.%m.%Y %H:%M'`",
    ),
]


@pytest.mark.parametrize(("old", "new", "words"), BAD_MAPPINGS)
def test_bad_mappings_are_refused_before_loading_with_their_line(
    settings, export, mapping_file, tmp_path, old, new, words
):
    text = mapping_file.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.yml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = text.splitlines().index(old) + 1
    with pytest.raises(InputFileError) as refused:
        run(settings, export.crm, export.events, mapping=bad)
    assert f"line {line}" in str(refused.value) and words in str(refused.value)
    assert _table(settings, "SELECT to_regclass('customers_new') IS NULL") == [(True,)]


def test_an_attribute_value_that_does_not_read_is_stored_empty_and_counted(settings, export, mapping_file, tmp_path):
    crm = tmp_path / "crm.csv"
    raw = export.crm.read_bytes().decode("cp1252").splitlines()
    cells = raw[1].split(";")
    cells[14 - 1] = "viele"  # Lifetime Orders: not an integer
    raw[1] = ";".join(cells)
    crm.write_bytes(("\r\n".join(raw) + "\r\n").encode("cp1252"))
    record = run(settings, crm, export.events, mapping=mapping_file)
    assert record["crm_loaded"] == len(export.customers) and record["crm_rejected"] == 0
    assert record["reject_reasons"][STORED_EMPTY] == {"lifetime_orders: not an integer (stored empty)": 1}
    cid = int(cells[0].removeprefix("ï»¿"))
    assert _table(settings, f"SELECT lifetime_orders FROM customer_attributes WHERE customer_id = {cid}") == [(None,)]


def test_semantic_attributes_join_the_profile_text_and_re_embed_incrementally(settings, export, mapping_file, tmp_path):
    first = run(settings, export.crm, export.events, mapping=mapping_file)
    cid = int(export.customers.iloc[0]["Kunden-ID"])
    tier = export.customers.iloc[0]["Loyalty Tier"]
    (text,) = _table(settings, f"SELECT profile_text FROM customer_profiles WHERE customer_id = {cid}")[0]
    assert f"Loyalty tier {tier}" in text and "stadt " in text
    new_tier = "platinum" if tier != "platinum" else "bronze"
    crm = tmp_path / "crm.csv"
    raw = export.crm.read_bytes().decode("cp1252").splitlines()
    cells = raw[1].split(";")
    cells[9] = new_tier
    raw[1] = ";".join(cells)
    crm.write_bytes(("\r\n".join(raw) + "\r\n").encode("cp1252"))
    second = run(settings, crm, export.events, mapping=mapping_file)
    assert first["embeddings_computed"] == len(export.customers)
    assert (second["profiles_changed"], second["embeddings_computed"]) == (1, 1)
    assert _table(settings, f"SELECT loyalty_tier FROM customer_attributes WHERE customer_id = {cid}") == [(new_tier,)]


def test_a_pii_attribute_is_hidden_from_the_models_role_and_the_json(settings, export, mapping_file, tmp_path):
    text = mapping_file.read_text(encoding="utf-8")
    old = '      column: "Stadt"\n'
    assert old in text
    marked = tmp_path / "pii.yml"
    marked.write_text(text.replace(old, old + "      pii: true\n", 1), encoding="utf-8")
    run(settings, export.crm, export.events, mapping=marked)
    reader = reader_engine(settings)
    with reader.connect() as conn:
        assert conn.execute(sa.text("SELECT count(loyalty_tier) FROM customer_attributes")).scalar() == len(
            export.customers
        )
        with pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("SELECT stadt FROM customer_attributes"))
        conn.rollback()
        with pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("SELECT to_jsonb(a) FROM public.customer_attributes a"))
        conn.rollback()
        # the gate's table carries the other attributes for the gate, never the personal one
        facts = conn.execute(sa.text("SELECT to_jsonb(f) FROM customer_facts f LIMIT 1")).scalar()
        assert "attr:loyalty_tier" in facts and not any("stadt" in k for k in facts)
    result = Discovery.from_settings(settings).answer("gold tier customers", offline=True)
    assert result.customers and all("stadt" not in c.contract()["attributes"] for c in result.customers)
    assert all("loyalty_tier" in c.contract()["attributes"] for c in result.customers)


def test_inspect_prints_only_yaml_on_stdout(export, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    cmd = [sys.executable, "-m", "ingest", "inspect", "--crm", str(export.crm), "--events", str(export.events)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=True)
    assert parse_mapping(done.stdout).mapping.crm.fields["email"].column == "E-Mail-Adresse"
    out = tmp_path / "m.yml"
    subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, env=env, timeout=120, check=True)
    assert out.read_text(encoding="utf-8") == done.stdout


def test_an_unreadable_signup_date_keeps_the_customer_and_their_events(settings, export, mapping_file, tmp_path):
    crm = tmp_path / "crm.csv"
    raw = export.crm.read_bytes().decode("cp1252").splitlines()
    cells = raw[1].split(";")
    cells[8] = "25/01/2025"  # Anmeldedatum, not in the mapping's dd.mm.yyyy
    raw[1] = ";".join(cells)
    crm.write_bytes(("\r\n".join(raw) + "\r\n").encode("cp1252"))
    record = run(settings, crm, export.events, mapping=mapping_file)
    assert (record["crm_loaded"], record["crm_rejected"]) == (len(export.customers), 0)
    assert (record["events_loaded"], record["events_rejected"]) == (export.event_rows, 0)
    assert record["reject_reasons"][STORED_EMPTY] == {"created_at: not a date in the form %d.%m.%Y (stored empty)": 1}
    cid = int(cells[0].removeprefix("ï»¿"))
    assert _table(settings, f"SELECT created_at FROM customers WHERE customer_id = {cid}") == [(None,)]
