"""The card's activatable count is over the WHOLE segment, through the real bot and the fake Slack, on
data with a consent column (the sample's e-mail opt-in, mapped `role: consent`): the expected counts
are computed here from the CSV files, the suppressed e-mails and the blanked ones, not by the bot's code."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from audiences.evaluate import Evaluator
from audiences.model import Recipe
from audiences.screen import Screening, counted_estimate
from cdp import suppression
from cdp.db import get_engine
from discovery.service import Conversation
from ingest.sample import add_attributes, attribute_mapping, generate
from tests.bot.conftest import slack  # noqa: F401 - fixture
from tests.bot.harness import card_text, running_bot
from tests.conftest import SAMPLE_END, loaded_database

WORDS = {"suppressed": "suppressed", "no_consent": "no consent", "no_email": "no e-mail"}


class Data:
    def __init__(self, settings, crm: pd.DataFrame, events: pd.DataFrame):
        self.settings, self.crm, self.events = settings, crm.set_index("customer_id"), events

    def buyers(self, product: str) -> list[int]:
        e = self.events
        return sorted(set(e.loc[(e.event_type == "purchase") & (e["product"] == product), "customer_id"].astype(int)))

    def screening(self, members: list[int], suppressed: set[str], blank: set[int]) -> Screening:
        """Who of `members` may leave, from the files: no e-mail, then suppressed, then no consent."""
        s = Screening(consent="consent required (email_opt_in)")
        for cid in members:
            row = self.crm.loc[cid]
            why = (
                "no_email" if cid in blank
                else "suppressed" if row.email.strip().lower() in suppressed
                else "no_consent" if str(row.email_opt_in).strip().lower() != "yes"
                else None
            )  # fmt: skip
            if why:
                s.left_out[why] += 1
            else:
                s.kept += 1
        return s


def line(s: Screening) -> str:
    about = "about " if s.about else ""
    parts = ", ".join(f"{about}{s.left_out[k]:,} {w}" for k, w in WORDS.items() if s.left_out.get(k))
    return f"*Activatable:* {about}{s.kept:,} of {about}{s.total:,} ({parts})"


@pytest.fixture(scope="module")
def data(pg_server_url, tmp_path_factory) -> Iterator[Data]:
    base = tmp_path_factory.mktemp("actcount")
    files = generate(base / "sample", 300, 8, seed=11, end=SAMPLE_END)
    crm = add_attributes(files.crm, base / "crm_attributes.csv", seed=11)
    mapping = base / "mapping.yml"
    mapping.write_text(attribute_mapping(), encoding="utf-8")
    with loaded_database(
        pg_server_url, base / "stores", crm, files.events, ingest_mapping=mapping, llm_max_retries=0
    ) as settings:
        yield Data(settings, pd.read_csv(crm), pd.read_csv(files.events))


class Changed:
    """Some members suppressed (given in another case and with spaces) and some e-mails blanked, undone after."""

    def __init__(self, data: Data, suppress: list[int], blank: list[int]):
        self.engine = get_engine(data.settings)
        self.emails = [data.crm.loc[i].email for i in suppress]
        self.blank = {i: data.crm.loc[i].email for i in blank}
        self.suppressed = {e.strip().lower() for e in self.emails}

    def __enter__(self) -> Changed:
        assert suppression.add(self.engine, [f"  {e.upper()} " for e in self.emails]) == len(self.emails)
        with self.engine.begin() as conn:
            for cid in self.blank:
                conn.execute(sa.text("UPDATE customers SET email = ' ' WHERE customer_id = :c"), {"c": cid})
        return self

    def __exit__(self, *exc) -> None:
        suppression.remove(self.engine, self.emails)
        with self.engine.begin() as conn:
            for cid, email in self.blank.items():
                conn.execute(sa.text("UPDATE customers SET email = :e WHERE customer_id = :c"), {"e": email, "c": cid})


def _card(fake, bot, question: str, channel: str) -> str:
    fake.send_slash_command("/audience", text=question, channel_id=channel)
    return card_text(bot.card_for(channel, bot.first_post(channel).ts))


def test_a_gate_segment_bigger_than_the_page_is_counted_whole(slack, data):  # noqa: F811
    segment = data.buyers("socks")
    with running_bot(slack, data.settings) as bot:
        shown = [c.customer_id for c in bot.discovery.answer("customers who bought socks", Conversation()).customers]
        rest = [i for i in segment if i not in shown]
        assert len(segment) > len(shown) and len(rest) >= 3
        with Changed(data, suppress=[rest[0], rest[1], shown[0]], blank=[rest[2]]) as changed:
            expected = data.screening(segment, changed.suppressed, set(changed.blank))
            assert expected.left_out["no_consent"] and expected.total == len(segment)
            text = _card(slack, bot, "customers who bought socks", "C1")
    assert line(expected) in text and "shown" not in text.split("*Activatable:*")[1]
    slack.assert_all_messages_valid()


def test_an_intent_segment_is_counted_over_its_whole_refined_set(slack, data):  # noqa: F811
    question = "customers into luxury"
    with running_bot(slack, data.settings) as bot:
        result = bot.discovery.answer(question, Conversation())
        assert result.query.intent and result.members is not None
        # the refined set as a saved audience / the thread's export evaluates it (not the engine's held ids)
        members = Evaluator(data.settings, get_engine(data.settings)).evaluate(Recipe(query=result.query)).ids.tolist()
        shown = [c.customer_id for c in result.customers]
        assert len(members) > len(shown) and set(shown) <= set(members)
        rest = [i for i in members if i not in shown]
        with Changed(data, suppress=rest[:2], blank=rest[2:3]) as changed:
            expected = data.screening(members, changed.suppressed, set(changed.blank))
            text = _card(slack, bot, question, "C2")
    assert line(expected) in text


def test_an_intent_over_a_gate_too_large_to_hold_is_estimated_and_says_about(slack, data):  # noqa: F811
    settings = data.settings.model_copy(update={"gate_fetch_max": 30})
    question = "customers who bought socks into luxury"
    gate = data.buyers("socks")
    with running_bot(slack, settings) as bot:
        result = bot.discovery.answer(question, Conversation())
        assert result.query.intent and result.members is None and result.funnel.after_gate == len(gate) > 30
        with Changed(data, suppress=gate[:2], blank=gate[2:3]) as changed:
            expected = counted_estimate(data.screening(gate, changed.suppressed, set(changed.blank)),
                                        result.funnel.after_semantic)  # fmt: skip
            text = _card(slack, bot, question, "C3")
    assert expected.total == result.funnel.after_semantic and sum(expected.left_out.values())
    assert line(expected) in text and "Estimated from the whole gate" in text
