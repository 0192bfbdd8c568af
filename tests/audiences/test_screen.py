"""Suppression and consent on real PostgreSQL: the list is stored hashed, re-read from
SUPPRESSION_CSV at each ingestion, and every export leaves the suppressed (and, when the data has a
consent column, those without consent) out, saying how many and why."""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

import ingest
from audiences.consent import consent_column
from audiences.export import export_members
from audiences.screen import Screening, screened
from cdp import suppression
from cdp.db import get_engine
from tests.audiences.changes import read

ROOT = Path(__file__).resolve().parents[2]


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def members(world) -> tuple[list[int], dict[int, pd.Series]]:
    aud = world.audiences()
    ids = aud.store.members(aud.store.get("DE buyers").id)[1].tolist()
    crm, _ = read(world.v2.crm, world.v2.events)
    rows = {int(r.customer_id): r for r in crm.itertuples()}
    return ids, rows


def write_emails(path: Path, emails: list[str]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Email", "note"])
        w.writerows([[e, "x"] for e in emails])
    return path


def test_the_data_has_no_consent_column_yet(world):
    assert consent_column(get_engine(world.settings)) is None


def test_suppressed_customers_leave_no_file_and_are_counted(world, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    engine = get_engine(world.settings)
    ids, rows = members(world)
    blocked = [rows[i].email for i in ids[:2]]
    try:
        assert suppression.add(engine, [f"  {blocked[0].upper()} ", blocked[1]]) == 2
        with engine.connect() as conn:
            stored = {bytes(r[0]) for r in conn.execute(sa.text("SELECT email_sha256 FROM suppressed_emails"))}
        assert {hashlib.sha256(e.lower().encode()).digest() for e in blocked} <= stored
        for fmt in ("meta", "google", "csv", "json"):
            s = export_members(engine, ids, fmt, tmp_path / f"out.{fmt}")
            text = (tmp_path / f"out.{fmt}").read_text()
            assert s.kept == len(ids) - 2 and s.left_out["suppressed"] == 2
            assert "2 suppressed" in s.describe() and "no consent data" in s.describe()
            for e in blocked:
                assert e not in text and h(e) not in text
        meta = list(csv.reader((tmp_path / "out.meta").read_text().splitlines()))
        assert meta[0] == ["email", "fn", "ln", "country"]
        kept = ids[2:]
        assert [r[0] for r in meta[1:]] == [h(rows[i].email.strip().lower()) for i in kept]
        assert [r[3] for r in meta[1:]] == [h(rows[i].country.lower()) for i in kept]
        assert suppression.remove(engine, [blocked[0]]) == 1
        assert export_members(engine, ids, "csv", tmp_path / "again.csv").left_out["suppressed"] == 1
    finally:
        suppression.remove(engine, blocked)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "@" not in logged and not any(h(e) in logged for e in blocked)


def test_members_no_longer_in_the_data_or_without_email_are_counted(world):
    engine = get_engine(world.settings)
    ids, _ = members(world)
    s = Screening()
    got = [c.customer_id for b in screened(engine, [*ids[:3], 10**12], s, batch=2) for c in b]
    assert got == ids[:3] and s.left_out["gone"] == 1 and "1 no longer in the data" in s.describe()


def test_a_consent_column_leaves_out_those_without_consent_unless_the_destination_does_not_need_it(world):
    engine = get_engine(world.settings)
    ids, _ = members(world)
    yes = set(ids[::2])
    with engine.begin() as conn:
        # the mapping's `role: consent` column, as ingestion stores it: a custom attribute
        conn.execute(sa.text("ALTER TABLE customer_attributes ADD COLUMN email_opt_in boolean"))
        conn.execute(
            sa.text(
                "INSERT INTO customer_attributes (customer_id) SELECT customer_id FROM customers ON CONFLICT DO NOTHING"
            )
        )
        conn.execute(sa.text("UPDATE customer_attributes SET email_opt_in = customer_id = ANY(:y)"),
                     {"y": list(yes)})  # fmt: skip
    try:
        s = Screening()
        got = {c.customer_id for b in screened(engine, ids, s, consent="email_opt_in") for c in b}
        assert got == yes and s.left_out["no_consent"] == len(ids) - len(yes)
        assert "consent required (email_opt_in)" in s.describe()
        s2 = Screening()
        got2 = {
            c.customer_id for b in screened(engine, ids, s2, consent="email_opt_in", needs_consent=False) for c in b
        }
        assert got2 == set(ids) and "does not need consent" in s2.describe()
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE customer_attributes DROP COLUMN email_opt_in"))


def test_suppression_csv_is_re_read_at_each_ingestion(world, tmp_path):
    engine = get_engine(world.settings)
    ids, rows = members(world)
    path = write_emails(tmp_path / "sup.csv", [rows[i].email for i in ids[:3]])
    settings = world.settings.model_copy(update={"suppression_csv": path})
    try:
        assert ingest.run(settings, world.v2.crm, world.v2.events)["status"] == "unchanged"
        s = Screening()
        list(screened(engine, ids, s))
        assert s.left_out["suppressed"] == 3
        write_emails(path, [rows[ids[0]].email])
        ingest.run(settings, world.v2.crm, world.v2.events)
        s = Screening()
        list(screened(engine, ids, s))
        assert s.left_out["suppressed"] == 1
    finally:
        write_emails(path, [])
        ingest.run(settings, world.v2.crm, world.v2.events)
    assert suppression.count(engine) == 0


def test_python_m_ingest_suppress_and_remove(world, tmp_path):
    ids, rows = members(world)
    path = write_emails(tmp_path / "sup.csv", [rows[i].email for i in ids[:2]])
    env = {**os.environ, "DATABASE_URL": world.settings.database_url.get_secret_value(),
           "DATA_DIR": str(world.settings.data_dir), "PYTHONPATH": str(ROOT)}  # fmt: skip
    run = [sys.executable, "-m", "ingest", "suppress", "--file", str(path)]
    proc = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "2 newly suppressed" in proc.stdout and "@" not in proc.stdout + proc.stderr
    proc = subprocess.run([*run, "--remove"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "holds 0 addresses" in proc.stdout
    bad = subprocess.run([*run[:-1], str(tmp_path / "missing.csv")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "Cannot read the suppression file" in bad.stderr


def test_segment_downloads_leave_the_suppressed_out(world):
    from bot.files import activatable, csv_file

    engine = get_engine(world.settings)
    ids, rows = members(world)
    doc = {"kind": "segment", "question": "q", "generated_at": "2026-11-01T12:00:00",
           "customers": [{"customer_id": i, "email": rows[i].email} for i in ids[:4]]}  # fmt: skip
    assert activatable(doc, engine) is doc
    try:
        suppression.add(engine, [rows[ids[1]].email])
        got = activatable(doc, engine)
        assert [c["customer_id"] for c in got["customers"]] == [ids[0], *ids[2:4]] and set(got) == set(doc)
        assert rows[ids[1]].email not in csv_file(got)[1].decode()
        table = {"kind": "analytics", "columns": ["email"], "rows": [[rows[ids[1]].email]]}
        assert activatable(table, engine) is table
    finally:
        suppression.remove(engine, [rows[ids[1]].email])
