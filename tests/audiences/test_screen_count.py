"""The whole-segment count in one statement (audiences.screen.counted) on real PostgreSQL: it agrees
with the Python screening (blocked_ids) member for member — suppressed e-mails hashed in SQL exactly as
cdp.suppression hashes them (spaces, upper case, Unicode), consent, no e-mail, gone — over held ids
and over a gate's own SQL; and an estimate scales the gate's shares."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from audiences.evaluate import Evaluator, members_sql
from audiences.screen import Screening, blocked_ids, counted, counted_estimate, ids_sql
from cdp import suppression
from cdp.db import get_engine
from tests.audiences.conftest import NOW

# (the e-mail stored, how the suppression list was given it or None: not suppressed)
TRICKY = [
    ("  Foo.Bar@Example.COM\t", "foo.bar@example.com"),
    ("\x1f\x0bMIXED@Case.Org\r\n", " mixed@CASE.org "),
    ("ÉLODIE@Exämple.FR", "élodie@exämple.fr"),
    ("\u00a0nbsp@x.com\u2003", "NBSP@X.COM"),
    ("İSTANBUL@x.tr", "İstanbul@X.TR"),
    ("ẞIG@x.de", None),
    ("plain@x.de ", None),
    ("   ", None),
    ("", None),
]


def _all_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT customer_id FROM customers ORDER BY customer_id"))]


def _same(a: Screening, b: Screening) -> None:
    assert (a.kept, +a.left_out, a.consent) == (b.kept, +b.left_out, b.consent)


def test_the_sql_hash_of_every_tricky_email_is_cdp_suppressions(world):
    engine = get_engine(world.settings)
    ids = _all_ids(engine)
    changed = ids[: len(TRICKY)]
    with engine.connect() as conn:
        before = dict(conn.execute(sa.text("SELECT customer_id, email FROM customers WHERE customer_id = ANY(:i)"),
                                   {"i": changed}).all())  # fmt: skip
    given = [g for _, g in TRICKY if g is not None]
    try:
        with engine.begin() as conn:
            for cid, (email, _) in zip(changed, TRICKY, strict=True):
                conn.execute(sa.text("UPDATE customers SET email = :e WHERE customer_id = :c"), {"e": email, "c": cid})
        assert suppression.add(engine, given) == len(given)
        members = [*ids, 10**12]  # one no longer in the data
        s = counted(engine, ids_sql(members))
        _same(s, blocked_ids(engine, members)[1])
        assert s.left_out == Counter(suppressed=len(given), no_email=2, gone=1)
        assert s.kept == len(ids) - len(given) - 2 and s.total == len(members)
        # each tricky e-mail on its own: suppressed exactly when cdp.suppression says so
        for cid, (email, g) in zip(changed, TRICKY, strict=True):
            one = counted(engine, ids_sql([cid]))
            expected = "no_email" if not email.strip() else "suppressed" if g else None
            assert list(one.left_out) == ([expected] if expected else []), repr(email)
            assert g is None or suppression.email_hash(email) == suppression.email_hash(g)
    finally:
        suppression.remove(engine, given)
        with engine.begin() as conn:
            for cid, email in before.items():
                conn.execute(sa.text("UPDATE customers SET email = :e WHERE customer_id = :c"), {"e": email, "c": cid})


def test_the_count_over_a_gate_equals_screening_its_members_with_consent(world):
    engine = get_engine(world.settings)
    aud = world.audiences()
    q = aud.store.get("DE buyers").recipe.query
    gate = Evaluator(world.settings, engine).evaluate(aud.store.get("DE buyers").recipe, now=NOW).ids.tolist()
    assert len(gate) > 3
    with engine.begin() as conn:  # a consent column as ingestion stores it, some of the gate without consent
        conn.execute(sa.text("ALTER TABLE customer_attributes ADD COLUMN email_opt_in text"))
        conn.execute(sa.text("INSERT INTO customer_attributes (customer_id) SELECT customer_id FROM customers "
                             "ON CONFLICT DO NOTHING"))  # fmt: skip
        conn.execute(sa.text("UPDATE customer_attributes SET email_opt_in = CASE WHEN customer_id % 3 = 0 THEN ' Yes' "
                             "WHEN customer_id % 3 = 1 THEN 'no' END"))  # fmt: skip
        emails = [r[0] for r in conn.execute(sa.text("SELECT email FROM customers WHERE customer_id = ANY(:i)"),
                                             {"i": gate[:2]})]  # fmt: skip
    try:
        suppression.add(engine, emails)
        s = counted(engine, members_sql(q, NOW), consent="email_opt_in")
        _same(s, blocked_ids(engine, gate, consent="email_opt_in")[1])
        no_consent = sum(1 for i in gate[2:] if i % 3 != 0)
        assert s.total == len(gate) and s.left_out == Counter(suppressed=2, no_consent=no_consent)
        assert s.consent == "consent required (email_opt_in)"
        assert counted(engine, members_sql(q, NOW)).consent == "no consent data"  # the catalogue maps none
    finally:
        suppression.remove(engine, emails)
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE customer_attributes DROP COLUMN email_opt_in"))


def test_an_estimate_applies_the_gates_shares_to_the_refined_size():
    gate = Screening(kept=800, left_out=Counter(suppressed=100, no_consent=100))
    s = counted_estimate(gate, 50)
    assert s.about and (s.kept, s.left_out) == (40, Counter(suppressed=5, no_consent=5)) and s.total == 50
    assert counted_estimate(Screening(), 10).total == 0
