"""Issue 12: nothing personal reaches the LLM. A thread of questions whose scripted turns try
to read e-mails and names every way model-written SQL can (columns, aggregates, whole rows,
disguises, error messages, sql_where, the retriever, later turns carrying earlier answers);
then every request the fake LLM server recorded is scanned for any loaded e-mail or name."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from discovery.service import Conversation, Discovery
from tests.discovery.test_agent import final, react
from tests.fakes.llm_server import FakeLLMServer

pytestmark = pytest.mark.trust("attack")

# (question, scripted turns) — a string turn is the text-to-SQL call's answer
ATTEMPTS = [
    ("list the e-mails", [react("sql_analytics", {"question": "e-mails"}), "SELECT email, count(*) FROM customers GROUP BY email", final("No e-mails.")]),
    ("all e-mails in one row", [react("sql_analytics", {"question": "e-mails"}), "SELECT string_agg(email, ',') FROM customers", final("No.")]),
    ("whole rows", [react("sql_analytics", {"question": "rows as json"}), "SELECT row_to_json(c) FROM customers c LIMIT 20"]),
    ("whole rows as jsonb", [react("sql_analytics", {"question": "rows"}), "SELECT jsonb_each(to_jsonb(c)) FROM customers c LIMIT 40"]),
    ("every column", [react("sql_analytics", {"question": "everything"}), "SELECT * FROM customers LIMIT 20"]),
    ("disguised", [react("sql_analytics", {"question": "reversed"}), "SELECT reverse(email) FROM customers", react("sql_analytics", {"question": "at"}), "SELECT replace(email, '@', ' at ') FROM customers", final("No.")]),
    ("split", [react("sql_analytics", {"question": "split"}), r"SELECT regexp_replace(email, '(.)', '\1 ', 'g'), split_part(email, '@', 1) FROM customers", final("No.")]),
    ("names", [react("sql_analytics", {"question": "names"}), "SELECT first_name || ' ' || last_name FROM customers", final("No.")]),
    ("an error quoting a value", [react("sql_analytics", {"question": "dates"}), "SELECT to_date(email, 'Month') FROM customers", react("sql_analytics", {"question": "dates"}), "SELECT to_date(country, 'Month') FROM customers", final("No.")]),
    ("a where clause", [react("hybrid_discovery", {"event_types": ["purchase"], "sql_where": "customer_id IN (SELECT customer_id FROM customers WHERE email LIKE 'a%')"}), final("No.")]),
    ("profiles", [react("sql_data_retriever", {"customer_ids": [1, 2, 3]}), final("Profiles shown.")]),
    ("and once more, with the whole thread", [final("Done.")]),
]  # fmt: skip


@pytest.fixture
def llm():
    with FakeLLMServer() as server:
        yield server


def test_no_email_or_name_reaches_the_llm(seed_settings, llm):
    settings = seed_settings.model_copy(
        update={"openrouter_api_key": SecretStr("k"), "llm_api_base": llm.base_url, "llm_max_retries": 0}
    )
    disc = Discovery.from_settings(settings)
    with disc.engine.connect() as conn:
        people = conn.execute(sa.text("SELECT email, first_name, last_name FROM customers")).all()
    emails = {p.email for p in people}
    names = {n for p in people for n in (p.first_name, p.last_name)}
    conversation = Conversation()
    tried = 0
    for question, turns in ATTEMPTS:
        for turn in turns:
            llm.enqueue(turn)
        disc.answer(question, conversation)
        tried += sum(1 for t in turns if not t.startswith("Thought") or "sql_where" in t or "retriever" in t)
    sent = json.dumps([r["json"] for r in llm.requests])
    assert len(llm.requests) > len(ATTEMPTS)
    local = {e.split("@")[0] for e in emails}
    domains = {e.split("@")[1] for e in emails}
    words = set(re.findall(r"[A-Za-z0-9_.+-]+", sent))
    assert [e for e in emails if e in sent or e[::-1] in sent] == []
    assert sorted(words & (names | local)) == []
    assert [d for d in domains if d in sent] == []
    assert tried >= 12
