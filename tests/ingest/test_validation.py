"""Bad input: rows quarantined with reasons and line numbers; fatal problems abort and the
live data stays as it was."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from ingest import InputFileError, TooManyRejects, run
from ingest.runs import recent_runs
from tests.conftest import SEED_CRM, SEED_EVENTS, write_csv

CRM_HEADER = "customer_id,first_name,last_name,email,country,age,total_spent,favorite_color,created_at"
EV_HEADER = "event_id,customer_id,event_type,product,color,price,event_timestamp"


def _good_crm(n: int) -> list[str]:
    return [f"{i},F{i},L{i},u{i}@x.com,PL,{20 + i % 40},{100 + i}.50,red,2025-01-01 10:00:00" for i in range(1, n + 1)]


def _good_events(n_customers: int, per: int) -> list[str]:
    out, eid = [], 1
    for c in range(1, n_customers + 1):
        for k in range(per):
            out.append(f"{eid},{c},purchase,item{k % 3},blue,10.00,2026-01-0{1 + k % 9} 12:00:00")
            eid += 1
    return out


def test_bad_rows_are_quarantined_with_line_numbers(settings, engine, tmp_path):
    crm_lines = _good_crm(200)
    crm_lines += [
        "201,F,L,a@x.com,PL,abc,10,red,2025-01-01",  # line 202: age not an integer (optional: stored empty)
        "202,F,L,,PL,30,10,red,2025-01-01",  # line 203: empty email (optional: stored empty)
        "203,F,L,b@x.com,PL,-4,10,red,2025-01-01",  # line 204: negative age (optional: stored empty)
        "5,F,L,dup@x.com,PL,30,10,red,2025-01-01",  # line 205: duplicate id
        "206,F,L,c@x.com,PL,30,10,red,not-a-date",  # line 206: bad timestamp (optional: stored empty)
        "207,F,L,c@x.com,PL,30",  # line 207: too few fields
        "x208,F,L,d@x.com,PL,30,10,red,2025-01-01",  # line 208: customer_id not an integer
    ]
    ev_lines = _good_events(200, 1) + [
        "9001,999,view,item1,blue,1.00,2026-01-01 00:00:00",  # unknown customer
        "9002,1,view,item1,blue,-3,2026-01-01 00:00:00",  # negative price (optional: stored empty)
        "9003,1,view,item1,blue,1.00,yesterday-ish",  # unparseable timestamp
    ]
    crm = write_csv(tmp_path / "crm.csv", CRM_HEADER, crm_lines)
    events = write_csv(tmp_path / "events.csv", EV_HEADER, ev_lines)

    record = run(settings, crm, events)

    assert record["status"] == "succeeded"
    assert (record["crm_loaded"], record["crm_rejected"]) == (204, 3)
    assert (record["events_loaded"], record["events_rejected"]) == (201, 2)
    with engine.connect() as conn:
        rejects = {
            (r.file, r.line_no): r.reason
            for r in conn.execute(
                sa.text("SELECT file, line_no, reason FROM ingest_rejects WHERE run_id = :r"), {"r": record["id"]}
            )
        }
        raw = conn.execute(
            sa.text("SELECT raw_line FROM ingest_rejects WHERE run_id = :r AND file = 'crm' AND line_no = 208"),
            {"r": record["id"]},
        ).scalar()
        emails = {r[0] for r in conn.execute(sa.text("SELECT email FROM customers WHERE customer_id = 5"))}
        kept = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                sa.text(
                    "SELECT customer_id, age, email, created_at FROM customers WHERE customer_id BETWEEN 201 AND 206"
                )
            )
        }
        price = conn.execute(sa.text("SELECT price FROM events WHERE event_id = 9002")).one()
    assert rejects == {
        ("crm", 205): "duplicate customer_id",
        ("crm", 207): "expected 9 fields, found 6",
        ("crm", 208): "customer_id is not an integer",
        ("events", 202): "unknown customer_id",
        ("events", 204): "unparseable event_timestamp",
    }
    assert raw == "x208,F,L,d@x.com,PL,30,10,red,2025-01-01"
    assert emails == {"u5@x.com"}  # the first occurrence wins
    assert record["reject_reasons"]["crm"]["duplicate customer_id"] == 1
    # optional values that are missing or do not read: stored empty, counted, the customer kept
    assert kept[201][0] is None and kept[202][1] is None and kept[203][0] is None and kept[206][2] is None
    assert tuple(price) == (None,)
    assert record["reject_reasons"]["crm stored empty"] == {
        "age: not an integer (stored empty)": 1,
        "email: empty (stored empty)": 1,
        "age: negative (stored empty)": 1,
        "created_at: unparseable (stored empty)": 1,
    }
    assert record["reject_reasons"]["events stored empty"] == {"price: negative (stored empty)": 1}


def _live_counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(sa.text("SELECT count(*) FROM customers")).scalar(),
            conn.execute(sa.text("SELECT count(*) FROM events")).scalar(),
        )


def test_missing_column_aborts_and_names_it(settings, engine, tmp_path):
    run(settings, SEED_CRM, SEED_EVENTS)
    lines = SEED_CRM.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("email")
    broken = [",".join(v for j, v in enumerate(line.split(",")) if j != drop) for line in lines]
    crm = tmp_path / "crm.csv"
    crm.write_text("\n".join(broken) + "\n")

    with pytest.raises(InputFileError, match="lacks column\\(s\\) email"):
        run(settings, crm, SEED_EVENTS)

    assert _live_counts(engine) == (500, 5000)
    last = recent_runs(engine, 1)[0]
    assert last["status"] == "failed" and "email" in last["error"]


def test_reject_ratio_above_threshold_aborts_with_live_data_unchanged(settings, engine, tmp_path):
    run(settings, SEED_CRM, SEED_EVENTS)
    lines = SEED_EVENTS.read_text().splitlines()
    # 10 % of events point at a customer that does not exist
    bad = [line if i % 10 else line.replace(line.split(",")[1], "999999", 1) for i, line in enumerate(lines[1:], 1)]
    events = tmp_path / "events.csv"
    events.write_text(lines[0] + "\n" + "\n".join(bad) + "\n")

    with pytest.raises(TooManyRejects, match="unknown customer_id") as info:
        run(settings, SEED_CRM, events)

    assert "live data is unchanged" in str(info.value)
    assert _live_counts(engine) == (500, 5000)


def test_missing_file_is_a_clear_error(settings, tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        run(settings, tmp_path / "nope.csv", SEED_EVENTS)


def test_not_utf8_is_a_clear_error(settings, tmp_path):
    crm = tmp_path / "crm.csv"
    crm.write_bytes((CRM_HEADER + "\n1,J\xf6rg,L,a@x.com,DE,30,10,red,2025-01-01\n").encode("latin-1"))
    with pytest.raises(InputFileError, match="not UTF-8"):
        run(settings, crm, SEED_EVENTS)


def test_rows_that_parse_but_break_rules_are_quarantined_on_the_fast_path(settings, engine, tmp_path, caplog):
    crm_lines = _good_crm(100) + ["7,F,L,again@x.com,DE,30,10.00,red,2025-01-01 00:00:00"]  # line 102: duplicate
    ev_lines = _good_events(100, 1) + [
        "9001,4242,view,item1,blue,1.00,2026-01-01 00:00:00",  # line 102: unknown customer
        "9002,1,view,item1,blue,-3.00,2026-01-01 00:00:00",  # line 103: negative price (stored empty)
        "9003,1, VIEW ,item1,Blue,3.00,2026-01-01 00:00:00",  # line 104: fine, normalized
        '9004,2,view," ",blue,3.00,2026-01-01 00:00:00',  # line 105: empty product (stored empty)
    ]
    crm = write_csv(tmp_path / "crm.csv", CRM_HEADER, crm_lines)
    events = write_csv(tmp_path / "events.csv", EV_HEADER, ev_lines)

    with caplog.at_level("INFO"):
        record = run(settings, crm, events)

    assert "validating row by row" not in caplog.text  # both files took the fast path
    assert (record["crm_loaded"], record["crm_rejected"]) == (100, 1)
    assert (record["events_loaded"], record["events_rejected"]) == (103, 1)
    with engine.connect() as conn:
        rejects = {
            (r.file, r.line_no): r.reason
            for r in conn.execute(
                sa.text("SELECT file, line_no, reason FROM ingest_rejects WHERE run_id = :r"), {"r": record["id"]}
            )
        }
        normalized = conn.execute(sa.text("SELECT event_type, color FROM events WHERE event_id = 9003")).one()
        emptied = conn.execute(
            sa.text("SELECT price, product FROM events WHERE event_id IN (9002, 9004) ORDER BY 1")
        ).all()
        columns = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = 'events'")
            )
        ]
    assert rejects == {
        ("crm", 102): "duplicate customer_id",
        ("events", 102): "unknown customer_id",
    }
    assert [tuple(r) for r in emptied] == [(Decimal("3.00"), None), (None, "item1")]
    assert record["reject_reasons"]["events stored empty"] == {
        "price: negative (stored empty)": 1,
        "product: empty (stored empty)": 1,
    }
    assert tuple(normalized) == ("view", "blue")
    assert "line_no" not in columns
