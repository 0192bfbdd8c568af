"""The input files' digest: hash, size, lines, and the check that sends unusual dates to the careful path."""

from __future__ import annotations

import hashlib

import pytest

from ingest.files import file_digest

HEADER = "event_id,customer_id,event_type,product,color,price,event_timestamp\n"
ROW = "{i},{i},view,socks,red,9.99,{ts}\n"


def _write(tmp_path, timestamps):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "".join(ROW.format(i=i, ts=ts) for i, ts in enumerate(timestamps)))
    return path


def test_canonical_dates_take_the_fast_path(tmp_path):
    path = _write(tmp_path, ["2026-01-24 23:30:00"] * 50)
    digest = file_digest(path)
    assert not digest.unusual
    assert digest.lines == 51
    assert digest.size == path.stat().st_size
    assert digest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "odd", ["2026-01-24T23:30:00Z", "2026-01-24 23:30:00+02:00", "24/01/2026 23:30", "2026-01-24 23:30:00-05:00"]
)
def test_offsets_and_day_month_dates_are_flagged(tmp_path, odd):
    assert file_digest(_write(tmp_path, ["2026-01-24 23:30:00"] * 20 + [odd])).unusual


def test_a_capital_z_in_text_alone_is_not_a_time_zone(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "1,1,view,Zip hoodie,red,9.99,2026-01-24 23:30:00\n")
    assert not file_digest(path).unusual


def test_a_zone_split_across_read_chunks_is_still_seen(tmp_path):
    """The digest reads 1 MiB at a time: a 'Z' that starts a chunk right after a digit still counts."""
    first = HEADER + "".join(ROW.format(i=i, ts="2026-01-24 23:30:00") for i in range(20000))
    pad = (1 << 20) - len(first.encode()) - len("0,0,view,socks,red,9.99,2026-01-24 23:30:00")
    assert pad > 0
    text = first + "0,0,view,socks" + "x" * pad + ",red,9.99,2026-01-24 23:30:00" + "Z\n"
    path = tmp_path / "events.csv"
    path.write_text(text)
    assert path.read_bytes()[(1 << 20) - 1 : (1 << 20) + 1] == b"0Z"
    assert file_digest(path).unusual
