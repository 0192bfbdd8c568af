"""Inputs an unlucky operator feeds the pipeline: a header-only export, ambiguous dates, offsets,
NUL bytes, a `;` file, a binary file, Latin-1, gzip. Each is refused with what to do, or its bad
rows are quarantined with their line numbers; nothing personal goes to the log."""

from __future__ import annotations

import gzip
import logging

import pytest
import sqlalchemy as sa

from ingest import InputFileError, run
from ingest.cli import main
from ingest.errors import IngestError
from tests.conftest import write_csv
from tests.trust import TALLY

CRM_HEADER = "customer_id,first_name,last_name,email,country,age,total_spent,favorite_color,created_at"
EV_HEADER = "event_id,customer_id,event_type,product,color,price,event_timestamp"
N = 40


def _crm(n: int = N, created: str = "2025-01-01 10:00:00") -> list[str]:
    return [f"{i},F{i},L{i},u{i}@x.com,PL,{20 + i % 40},{100 + i}.50,red,{created}" for i in range(1, n + 1)]


def _events(n: int = N) -> list[str]:
    return [f"{c},{c},purchase,item{c % 3},blue,10.00,2026-01-02 12:00:00" for c in range(1, n + 1)]


def _files(tmp_path, crm_lines=None, ev_lines=None):
    crm = write_csv(tmp_path / "crm.csv", CRM_HEADER, _crm() if crm_lines is None else crm_lines)
    events = write_csv(tmp_path / "events.csv", EV_HEADER, _events() if ev_lines is None else ev_lines)
    return crm, events


def _count(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


@pytest.fixture
def loaded(settings, engine, tmp_path):
    crm, events = _files(tmp_path)
    run(settings, crm, events)
    return settings


def test_a_header_only_export_is_refused_unless_allowed(loaded, engine, tmp_path):
    (tmp_path / "empty").mkdir()
    crm, events = _files(tmp_path / "empty", [], [])
    TALLY.bad_input()
    with pytest.raises(IngestError, match=r"would remove 40 of 40 live customers") as info:
        run(loaded, crm, events, force=True)
    assert "--allow-shrink" in str(info.value) and "MAX_SHRINK" in str(info.value)
    assert _count(engine, "SELECT count(*) FROM customers") == 40
    TALLY.handled()

    record = run(loaded, crm, events, force=True, allow_shrink=True)
    assert record["status"] == "succeeded"
    assert _count(engine, "SELECT count(*) FROM customers") == 0


def test_a_small_shrink_passes(loaded, engine, tmp_path):
    (tmp_path / "fewer").mkdir()
    crm, events = _files(tmp_path / "fewer", _crm(30), _events(30))
    assert run(loaded, crm, events)["status"] == "succeeded"
    assert _count(engine, "SELECT count(*) FROM customers") == 30


def test_ambiguous_day_month_column_is_refused_and_named(settings, engine, tmp_path):
    crm, events = _files(tmp_path, _crm(created="05/01/2026"))
    TALLY.bad_input()
    with pytest.raises(InputFileError, match="created_at") as info:
        run(settings, crm, events)
    assert "DATE_ORDER" in str(info.value)
    TALLY.handled()


def test_mixed_day_first_and_month_first_is_refused(settings, engine, tmp_path):
    lines = _crm()
    lines[0] = lines[0].replace("2025-01-01 10:00:00", "25/01/2025")  # day first
    lines[1] = lines[1].replace("2025-01-01 10:00:00", "01/25/2025")  # month first
    crm, events = _files(tmp_path, lines)
    TALLY.bad_input()
    with pytest.raises(InputFileError, match="created_at"):
        run(settings, crm, events)
    TALLY.handled()


def test_a_column_that_proves_day_first_is_read_day_first(settings, engine, tmp_path):
    lines = _crm()
    lines[0] = lines[0].replace("2025-01-01 10:00:00", "05/01/2026")
    lines[1] = lines[1].replace("2025-01-01 10:00:00", "25/01/2025")
    crm, events = _files(tmp_path, lines)
    TALLY.bad_input()
    record = run(settings, crm, events)
    assert record["crm_rejected"] == 0
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT customer_id, created_at::date::text FROM customers")).all())
    assert (got[1], got[2]) == ("2026-01-05", "2025-01-25")
    TALLY.handled()


def test_a_stated_date_order_is_used(settings, engine, tmp_path):
    crm, events = _files(tmp_path, _crm(created="05/01/2026"))
    record = run(settings.model_copy(update={"date_order": "MDY"}), crm, events)
    assert record["crm_rejected"] == 0
    assert _count(engine, "SELECT min(created_at)::date::text FROM customers") == "2026-05-01"


def test_offsets_are_converted_to_utc(settings, engine, tmp_path):
    ev = _events()
    ev[0] = ev[0].replace("2026-01-02 12:00:00", "2026-01-24 23:30:00-09:00")
    crm, events = _files(tmp_path, None, ev)
    TALLY.bad_input()
    run(settings, crm, events)
    assert _count(engine, "SELECT event_timestamp::text FROM events WHERE event_id = 1") == "2026-01-25 08:30:00"
    TALLY.handled()


def test_a_nul_byte_quarantines_its_row(settings, engine, tmp_path):
    lines = _crm(N + 1)
    lines[-1] = lines[-1].replace(f"F{N + 1}", "F\x00x")  # line N + 2
    crm, events = _files(tmp_path, lines)
    TALLY.bad_input()
    record = run(settings, crm, events)
    assert (record["crm_loaded"], record["crm_rejected"]) == (N, 1)
    with engine.connect() as conn:
        line_no, reason = conn.execute(sa.text("SELECT line_no, reason FROM ingest_rejects")).one()
    assert line_no == N + 2 and "NUL" in reason
    TALLY.handled()


def test_semicolon_file_suggests_the_delimiter(settings, tmp_path):
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM_HEADER.replace(",", ";") + "\n1;F;L;a@x.com;PL;30;10;red;2025-01-01\n")
    events = write_csv(tmp_path / "events.csv", EV_HEADER, _events(1))
    TALLY.bad_input()
    with pytest.raises(InputFileError, match="';'") as info:
        run(settings, crm, events)
    assert "comma" in str(info.value)
    TALLY.handled()


def test_binary_file_is_named_as_not_csv_text(settings, tmp_path):
    crm = tmp_path / "crm.csv"
    crm.write_bytes(b"\x00\x01\x02\x03binary\x00\x00\n\x04\x05")
    events = write_csv(tmp_path / "events.csv", EV_HEADER, _events(1))
    TALLY.bad_input()
    with pytest.raises(InputFileError, match="not a CSV text file") as info:
        run(settings, crm, events)
    assert "found: ." not in str(info.value)
    TALLY.handled()


def test_latin1_names_the_line_and_what_to_do(settings, tmp_path):
    lines = _crm()
    lines[9] = lines[9].replace("F10", "Fran\xe7ois")  # line 11
    crm = tmp_path / "crm.csv"
    crm.write_bytes((CRM_HEADER + "\n" + "\n".join(lines) + "\n").encode("latin-1"))
    events = write_csv(tmp_path / "events.csv", EV_HEADER, _events())
    TALLY.bad_input()
    with pytest.raises(InputFileError, match="line 11") as info:
        run(settings, crm, events)
    assert "UTF-8" in str(info.value) and "iconv" in str(info.value)
    TALLY.handled()


def test_gzip_file_says_to_decompress(settings, tmp_path):
    crm = tmp_path / "crm.csv.gz"
    crm.write_bytes(gzip.compress((CRM_HEADER + "\n" + "\n".join(_crm()) + "\n").encode()))
    events = write_csv(tmp_path / "events.csv", EV_HEADER, _events())
    TALLY.bad_input()
    with pytest.raises(InputFileError, match="gzip") as info:
        run(settings, crm, events)
    assert "gunzip" in str(info.value)
    TALLY.handled()


def test_a_record_that_does_not_parse_is_logged_without_its_value(
    settings, engine, tmp_path, caplog, monkeypatch, capsys
):
    lines = _crm(N + 1)
    lines[-1] = lines[-1].replace(f"u{N + 1}@x.com,PL,{20 + (N + 1) % 40}", "secret.person@x.com,PL,notanage")
    lines[-1] = lines[-1].replace(f"{N + 1},F", "x,F", 1)  # a customer_id that does not read: the row is rejected
    crm, events = _files(tmp_path, lines)
    TALLY.bad_input()
    with caplog.at_level(logging.DEBUG):
        record = run(settings, crm, events)
    assert record["crm_rejected"] == 1
    assert "secret.person" not in caplog.text and "notanage" not in caplog.text
    assert f"line {N + 2}" in caplog.text
    TALLY.handled()

    monkeypatch.setenv("DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.chdir(tmp_path)
    from cdp.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["status", "--rejects", str(record["id"])]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "secret.person" in out and "operator" in out
