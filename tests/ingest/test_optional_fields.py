"""Bad input and nothing lost: a value that does not fit quarantines its row only when the field is
required (ids, an event's customer, type and time). An optional field that is missing or does not
read is stored empty (NULL) and counted per field and reason in the run record; the customer is kept
with all their events. Then what a user sees of those customers: the gate, the catalogue, the
analytics, the card, the JSON / CSV and the exports."""

from __future__ import annotations

import csv
import io
import logging

import pytest
import sqlalchemy as sa

from audiences.formats import Contact, google_row, meta_row
from bot.files import csv_file
from bot.views.result_card import customer_table
from discovery.catalogue import load_catalogue
from discovery.service import Discovery
from ingest import run
from ingest.cli import format_run
from ingest.inspect import propose
from ingest.mapped_run import EVENTS_STORED_EMPTY, STORED_EMPTY
from ingest.mapping import MappingError, parse_mapping
from tests.conftest import write_csv

CRM_HEADER = "customer_id,first_name,last_name,email,country,age,total_spent,favorite_color,created_at"
EV_HEADER = "event_id,customer_id,event_type,product,color,price,event_timestamp"

CAREFUL_CRM = [
    "1,Ann,A,a1@x.com,DE,30,100.50,red,2025-01-01 10:00:00",  # line 2
    "2,Ben,B,a2@x.com,DE,abc,200.00,blue,2025-01-01 10:00:00",  # line 3: age not an integer
    "3,Cem,C,,DE,31,300.00,blue,2025-01-01 10:00:00",  # line 4: no e-mail
    "4,Dee,D,a4@x.com,DE,32,400.00,Chartreuse,2025-01-01 10:00:00",  # line 5: a colour no event has
    "5,Eva,E,a5@x.com,DE,33,lots,red,2025-01-01 10:00:00",  # line 6: total_spent not a number
    "6,Fay,F,a6@x.com,DE,26,600.00,red,soon",  # line 7: created_at not a date
    "7,Gil,G,a7@x.com,,27,700.00,red,2025-01-01 10:00:00",  # line 8: no country
    '8,"Ann\nMarie",H,a8@x.com,PL,28,800.00,red,2025-01-01 10:00:00',  # lines 9-10: a quoted newline
    "x9,Ian,I,a9@x.com,DE,29,900.00,red,2025-01-01 10:00:00",  # line 11: customer_id not an integer
    "10,Jo,J,a10@x.com,PL,29,1000.00,red,2025-01-01 10:00:00",  # line 12
]


def _events(ids, per: int = 2) -> list[str]:
    out, eid = [], 1
    for cid in ids:
        for k in range(per):
            out.append(f"{eid},{cid},purchase,item{k},blue,10.00,2026-01-0{1 + k} 12:00:00")
            eid += 1
    return out


KEPT = [1, 2, 3, 4, 5, 6, 7, 8, 10]


def _counts(r: dict) -> tuple:
    """Rows loaded and rejected per file, and the CRM file's reject reasons."""
    return (r["crm_loaded"], r["crm_rejected"], r["events_loaded"], r["events_rejected"], r["reject_reasons"]["crm"])


def _once(*reasons: str) -> dict[str, int]:
    """The run record's counts of optional values stored empty, each reason once."""
    return {f"{r} (stored empty)": 1 for r in reasons}


@pytest.fixture
def careful(settings, tmp_path):
    crm = write_csv(tmp_path / "crm.csv", CRM_HEADER, CAREFUL_CRM)
    events = _events(KEPT) + [
        "901,1,view,,blue,,2026-01-03 12:00:00",  # no product, no price
        "902,2,view,item1,,-4,2026-01-03 12:00:00",  # no color, a negative price
    ]
    events = write_csv(tmp_path / "events.csv", EV_HEADER, events)
    return run(settings.model_copy(update={"max_reject_ratio": 0.2}), crm, events)  # 1 of 10 rejected


def _customers(engine) -> dict[int, tuple]:
    with engine.connect() as conn:
        return {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                sa.text(
                    "SELECT customer_id, email, country, age, total_spent, favorite_color, created_at FROM customers"
                )
            )
        }


def test_optional_values_that_do_not_read_are_stored_empty_and_counted(careful, engine):
    record = careful
    assert _counts(record) == (9, 1, 2 * len(KEPT) + 2, 0, {"customer_id is not an integer": 1})
    assert record["reject_reasons"][STORED_EMPTY] == _once(
        "age: not an integer",
        "email: empty",
        "total_spent: not a number",
        "created_at: unparseable",
        "country: empty",
    )
    assert record["reject_reasons"][EVENTS_STORED_EMPTY] == _once(
        "product: empty",
        "price: empty",
        "color: empty",
        "price: negative",
    )
    with engine.connect() as conn:
        rejects = conn.execute(sa.text("SELECT file, line_no, reason FROM ingest_rejects")).all()
        per_customer = dict(conn.execute(sa.text("SELECT customer_id, count(*) FROM events GROUP BY 1")).all())
        blank = conn.execute(
            sa.text("SELECT product, color, price FROM events WHERE event_id IN (901, 902) ORDER BY event_id")
        ).all()
        facts = dict(conn.execute(sa.text("SELECT customer_id, cardinality(items) FROM customer_facts")).all())
    assert [tuple(r) for r in rejects] == [("crm", 11, "customer_id is not an integer")]  # the physical line
    assert per_customer == {cid: 2 + (cid in (1, 2)) for cid in KEPT}  # every kept customer with all their events
    assert [tuple(r) for r in blank] == [(None, "blue", None), ("item1", None, None)]
    assert facts[1] == 3 and facts[2] == 3  # the events without product / colour are in the gate's facts
    got = _customers(engine)
    assert set(got) == set(KEPT)
    assert got[2][2] is None and got[3][0] is None and got[5][3] is None and got[6][5] is None and got[7][1] is None
    assert got[4][4] == "chartreuse"  # a colour no event has is a colour, not an error
    text = format_run(record)
    assert "crm stored empty: " in text and "age: not an integer (stored empty) (1)" in text


def test_the_gate_keeps_sql_three_valued_logic_for_unknown_values(careful, settings, engine):
    discovery = Discovery.from_settings(settings)

    def ids(question: str) -> set[int]:
        result = discovery.answer(question, offline=True)
        assert result.kind == "segment", result.answer
        assert result.funnel.after_gate == len(result.customers)
        return {c.customer_id for c in result.customers}

    assert ids("customers aged 25-34") == set(KEPT) - {2}  # an unknown age is in no age band
    assert ids("customers from Germany") == {1, 2, 3, 4, 5, 6}  # an unknown country is not Germany
    assert ids("customers outside Germany") == {8, 10}  # … nor outside it: unknown, not elsewhere
    assert ids("customers who spent more than 50") == set(KEPT) - {5}
    catalogue = load_catalogue(engine)
    assert None not in catalogue.countries and None not in catalogue.products and None not in catalogue.colors
    assert "chartreuse" in catalogue.favorite_colors


def test_an_analytics_breakdown_names_the_unknown_group(careful, settings):
    result = Discovery.from_settings(settings).answer("number of customers by country", offline=True)
    assert result.kind == "analytics"
    assert dict((r[0], r[1]) for r in result.rows) == {"DE": 6, "PL": 2, "unknown": 1}
    by_band = Discovery.from_settings(settings).answer("number of customers by age band", offline=True)
    assert dict((r[0], r[1]) for r in by_band.rows)["unknown"] == 1


def test_card_json_csv_and_exports_show_an_unknown_value_as_empty(careful, settings):
    result = Discovery.from_settings(settings).answer("customers from Germany", offline=True)
    by_id = {c.customer_id: c for c in result.customers}
    assert by_id[5].total_spent is None and by_id[3].email is None
    doc = result.to_json()
    members = {m["customer_id"]: m for m in doc["customers"]}
    assert members[5]["total_spent"] is None and members[3]["email"] is None
    _, body = csv_file(doc)
    rows = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(body.decode()))}
    assert rows["5"]["total_spent"] == "" and rows["3"]["email"] == ""
    assert "None" not in body.decode()
    table = customer_table([by_id[5], by_id[3]])
    assert "None" not in table
    no_country = Contact(7, "a7@x.com", "Gil", "G", None)
    assert meta_row(no_country)[3] == "" and google_row(no_country)[3] == ""


def test_the_fast_path_stores_empty_what_copy_reads_as_missing(settings, engine, tmp_path, caplog):
    crm_lines = [f"{i},F{i},L{i},u{i}@x.com,PL,{20 + i},{100 + i}.50,red,2025-01-01 10:00:00" for i in range(1, 9)]
    crm_lines[1] = "2,F2,L2,,PL,,,red,"  # line 3: no e-mail, age, spend, date (unquoted: NULL)
    crm_lines[2] = '3,F3,L3,u3@x.com," ",-5,-3.00,"",2025-01-01 10:00:00'  # line 4: blank country / colour
    crm_lines[3] = "4,F4,L4,u4@x.com,PL,200,10.00,red,2025-01-01 10:00:00"  # line 5: age above 150
    crm_lines.append(",F9,L9,u9@x.com,PL,30,10.00,red,2025-01-01 10:00:00")  # line 10: no customer_id
    events = [f"{i},{i},view,item{i % 2},blue,5.00,2026-01-02 12:00:00" for i in range(1, 9)]
    events.append('9,1,view,,"  ",,2026-01-03 12:00:00')  # no product / colour / price
    crm = write_csv(tmp_path / "crm.csv", CRM_HEADER, crm_lines)
    ev = write_csv(tmp_path / "events.csv", EV_HEADER, events)
    with caplog.at_level(logging.INFO):
        record = run(settings.model_copy(update={"max_reject_ratio": 0.2}), crm, ev)
    assert "validating row by row" not in caplog.text  # both files took the fast path
    assert _counts(record) == (8, 1, 9, 0, {"empty customer_id": 1})
    assert record["reject_reasons"][STORED_EMPTY] == _once(
        "email: empty",
        "age: empty",
        "total_spent: empty",
        "created_at: empty",
        "country: empty",
        "favorite_color: empty",
        "age: negative",
        "total_spent: negative",
        "age: above 150",
    )
    assert record["reject_reasons"][EVENTS_STORED_EMPTY] == _once("product: empty", "color: empty", "price: empty")
    got = _customers(engine)
    assert got[2][:5] == (None, "PL", None, None, "red") and got[2][5] is None
    assert got[3][1:5] == (None, None, None, None) and got[4][2] is None
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT product, color, price FROM events WHERE event_id = 9")).one() == (
            None,
            None,
            None,
        )


MAPPED_CRM = [
    "Kunde;Mail;Vorname;Nachname;Alter;Umsatz;Datum",
    "1;a1@x.com;Ann;A;30;10,50;01.02.2025",
    "2;a2@x.com;Ben;B;dreißig;20,00;02.02.2025",  # an age that does not read
    "3;a3@x.com;Cem;C;33;30,00;25/01/2025",  # a date not in the mapping's form
    "4;a4@x.com;Dee;D;34;40,00;04.02.2025",
]
MAPPING = """crm:
  delimiter: ";"
  decimal: ","
  fields:
    customer_id: Kunde
    email: Mail
    first_name: Vorname
    last_name: Nachname
    age: Alter
    total_spent: Umsatz
    created_at: {column: Datum, format: "%d.%m.%Y"}
"""


def test_a_mapping_may_leave_optional_fields_out_said_once(settings, engine, tmp_path, caplog):
    crm = tmp_path / "crm.csv"
    crm.write_text("\n".join(MAPPED_CRM) + "\n", encoding="utf-8")
    events = write_csv(tmp_path / "events.csv", EV_HEADER, _events([1, 2, 3, 4]))
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with caplog.at_level(logging.INFO):
        record = run(settings, crm, events, mapping=mapping)
    assert (record["crm_loaded"], record["crm_rejected"]) == (4, 0)
    assert (record["events_loaded"], record["events_rejected"]) == (8, 0)
    assert record["reject_reasons"][STORED_EMPTY] == {
        "country: no column in the mapping (stored empty)": 4,
        "favorite_color: no column in the mapping (stored empty)": 4,
        "age: not an integer (stored empty)": 1,
        "created_at: not a date in the form %d.%m.%Y (stored empty)": 1,
    }
    assert caplog.text.count("no column in the mapping") == 1  # said once, not per row
    got = _customers(engine)
    assert [got[c][1] for c in (1, 2, 3, 4)] == [None] * 4  # no country
    assert got[2][2] is None and got[3][5] is None and str(got[1][3]) == "10.50"


def test_inspect_marks_the_required_and_the_optional_fields(tmp_path):
    crm = tmp_path / "crm.csv"
    crm.write_text("customer_id,email\n1,a@x.com\n2,b@x.com\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("event_id,customer_id,event_timestamp\n1,1,2026-01-01 10:00:00\n", encoding="utf-8")
    text = propose(crm, events)
    lines = {line.split(":")[0].strip(): line for line in text.splitlines() if line.startswith("    ")}
    for optional in ("first_name", "country", "age", "total_spent", "favorite_color", "created_at"):
        assert "# optional" in lines[optional], lines[optional]
    for optional in ("product", "color", "price"):
        assert "# optional" in lines[optional], lines[optional]
    assert "# REQUIRED" in lines["event_type"]
    with pytest.raises(MappingError, match="required field events.fields.event_type"):
        parse_mapping(text)
    fixed = parse_mapping(text.replace("    event_type:", "    event_type: kind  #", 1))
    assert fixed.mapping.events is not None and fixed.mapping.events.fields.get("product") is None
