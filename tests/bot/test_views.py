"""Block Kit builders: pure functions, validated with slack_sdk's models and Slack's limits (no server)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot.views import errors
from bot.views.help import help_message
from bot.views.progress import progress_message, stage_line
from bot.views.result_card import (
    ACTION_DOWNLOAD_CSV,
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHOW_SQL,
    Diff,
    is_breakdown,
    result_card,
)
from bot.views.sql_modal import sql_modal
from bot.views.status import status_message
from bot.views.text import code_block, cut, scrub
from discovery.result import Result
from tests.bot.factories import EMAIL, analytics, customer, segment
from tests.fakes.slack import validate_message, validate_view


def all_text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def assert_valid(message: dict) -> None:
    validate_message(message)
    assert 0 < len(message["text"]) <= 3000


def test_scrub_removes_broadcasts_mentions_and_emails():
    text = scrub(
        "<!channel> hi <!here|here> <!everyone> <@U123ABC> and <@W999|bob> <!subteam^S1|team> @here a@b.com x<y & z"
    )
    for bad in ("<!", "<@", "a@b.com", "@here"):
        assert bad not in text
    assert "x&lt;y &amp; z" in text and "bob" in text and "[email hidden]" in text


def test_cut_and_code_block_respect_limits():
    assert cut("abcdef", 4, "…") == "abc…"
    block = code_block([f"line {i} " + "x" * 80 for i in range(200)], 3000, more_note="_{n} more._")
    assert len(block) <= 3000 and block.count("```") == 2 and re.search(r"_\d+ more\._$", block)


def test_progress_message_quotes_the_question_and_shows_stages():
    msg = progress_message("customers who bought socks\nand like <!channel> luxury", "semantic", user="U1")
    assert_valid(msg)
    quote = msg["blocks"][0]["text"]["text"]
    assert "<@U1> asked" in quote and "> customers who bought socks" in quote and "<!channel>" not in quote
    line = stage_line("semantic")
    assert line.index("✅ behaviour gate") < line.index("⏳ semantic ranking") < line.index("◻️ enrichment")
    assert "reading the question" in stage_line(None)


def test_segment_card_has_everything_and_no_emails():
    result = segment(20)
    msg = result_card(
        result,
        card_id="abc123",
        diff=Diff.between([1, 2, 99], [c.customer_id for c in result.customers]),
        request_id="rid42",
    )
    assert_valid(msg)
    text = all_text(msg)
    assert not EMAIL.search(text), "no e-mails in channel messages"
    kinds = [b["type"] for b in msg["blocks"]]
    assert kinds[0] == "header" and "actions" in kinds
    assert "+18 added" in text and "−1 removed" in text and "2 kept" in text
    assert "500 customers → 120 gate → 80 ranked → 20 shown" in text
    assert "Offline planner — no OPENROUTER_API_KEY is set" in text
    assert "events through 2026-11-01" in text and "loaded 2026-11-23 20:15 UTC" in text
    assert "Anna1 Kowalska1" in text and "Why the top matches" in text and "purchase of socks" in text
    assert (
        "0 LLM tokens" in text
        and "· $0 ·" in text
        and "0.41 s" in text
        and "offline planner" in text
        and "rid42" in text
    )
    actions = next(b for b in msg["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        ACTION_SHOW_SQL,
        ACTION_DOWNLOAD_CSV,
        ACTION_FEEDBACK_UP,
        ACTION_FEEDBACK_DOWN,
    ]
    assert {e["value"] for e in actions["elements"]} == {"abc123"}


def test_agent_card_footer_shows_tokens_cost_and_model():
    msg = result_card(analytics(), card_id="c1")
    assert_valid(msg)
    text = all_text(msg)
    assert "1,280 LLM tokens (2 calls)" in text and "$0.00015" in text and "2.30 s" in text
    assert "google/gemini-3.5-flash" in text and "LLM agent" in text
    assert "DE" in text and "CZ" in text and "📊" in text


def test_huge_segment_is_cut_not_rejected():
    long_why = "because " + "very " * 400
    result = segment(300)
    for c in result.customers:
        c.why = long_why
        c.first_name = "N" * 200
        c.calculated_interests = ["x" * 50] * 10
    result.answer = "A" * 10_000 + " <!everyone>"
    result.notes = [f"note {i} " + "n" * 500 for i in range(30)]
    result.question = "<!here> " + "Q" * 500
    result.recipe.query = {"crm": {"customer_ids": list(range(2000))}}
    result.wants_json = True
    msg = result_card(result, card_id="x" * 16, diff=Diff.between(list(range(5000)), list(range(10))))
    assert_valid(msg)
    assert "more customers in the file" in all_text(msg)
    assert "<!everyone>" not in all_text(msg) and "<!here>" not in all_text(msg)
    assert msg["blocks"][0]["type"] == "header" and len(msg["blocks"][0]["text"]["text"]) <= 150


def test_analytics_table_cut_with_many_rows():
    rows = [[f"value-{i}", i * 1000] for i in range(1000)]
    msg = result_card(analytics(rows), card_id="c")
    assert_valid(msg)
    assert "more rows in the file" in all_text(msg)


def test_is_breakdown():
    assert is_breakdown(analytics())
    assert not is_breakdown(analytics([["DE", 20]]))  # one row
    assert not is_breakdown(analytics([["DE", "many"], ["PL", "few"]]))  # not numeric
    assert not is_breakdown(analytics([[1, 2, 3], [4, 5, 6]], ["a", "b", "c"]))  # three columns
    assert not is_breakdown(segment(3))


def test_clarify_card_has_no_buttons():
    result = Result(
        kind="clarify", question="hmm", answer="Which country do you mean? <@U1>", mode="offline", mode_reason="x"
    )
    msg = result_card(result, card_id="c")
    assert_valid(msg)
    assert "actions" not in [b["type"] for b in msg["blocks"]] and "<@U1>" not in all_text(msg)


def test_explanation_card_and_json_preview():
    result = segment(1, question="why is customer 1 in?")
    result.answer = "Customer 1 is in the segment: purchase of socks (2×)."
    msg = result_card(result, card_id="c", explanation=True)
    assert_valid(msg)
    assert "Funnel" not in all_text(msg) and "🔎" in all_text(msg)
    result = segment(5, wants_json=True)
    msg = result_card(result, card_id="c")
    assert_valid(msg)
    text = all_text(msg)
    assert "JSON" in text and "customer_id" in text and not EMAIL.search(text)


def test_notes_show_blocked_sql():
    result = segment(2)
    result.notes = ["blocked SQL: DELETE is not allowed (only SELECT)"]
    text = all_text(result_card(result, card_id="c"))
    assert "blocked SQL: DELETE is not allowed" in text


def test_sql_modal_valid_even_for_huge_sql():
    view = sql_modal(
        "q <b>", ["SELECT 1", "SELECT " + ", ".join(f"col_{i}" for i in range(3000)) + " FROM t WHERE a < b"]
    )
    validate_view(view)
    assert "col_2999" in json.dumps(view) and "&lt;" in json.dumps(view)
    validate_view(sql_modal("q", ["SELECT 1"] * 500))
    validate_view(sql_modal("q", []))


def test_help_status_and_error_messages_are_valid():
    assert_valid(help_message())
    assert "status" in all_text(help_message()) and "only Germany" in all_text(help_message())
    info = {
        "live": True,
        "counts": {"customers": 500, "events": 5000, "profiles": 500, "vectors": 500},
        "data_min_ts": "2026-05-01T00:00:00",
        "data_max_ts": "2026-11-01T12:00:00",
        "last_success": {"finished_at": "2026-11-23T02:00:10+00:00"},
        "runs": [
            {"id": 3, "status": "failed", "trigger": "schedule", "started_at": "2026-11-23T02:00:00", "error": "bad <!here> CSV"},
            {"id": 2, "status": "succeeded", "trigger": "cli", "finished_at": "2026-11-22T02:00:10", "crm_loaded": 500,
             "events_loaded": 5000, "stage_seconds": {"load": 1.5, "embed": 4.0}},
        ],
    }  # fmt: skip
    msg = status_message(
        info,
        answers_from="the offline planner",
        next_run=datetime(2026, 11, 24, 2, tzinfo=UTC),
        schedule="0 2 * * * UTC",
    )
    assert_valid(msg)
    text = all_text(msg)
    assert "500" in text and "5,000" in text and "2026-11-24 02:00" in text and "offline planner" in text
    assert "last run failed" in text and "<!here>" not in text
    empty = status_message({"live": False, "runs": []}, answers_from="LLM", next_run=None, schedule="bad")
    assert_valid(empty)
    assert "No customer data yet" in all_text(empty)
    for msg in (
        errors.not_allowed(), errors.guest_refused(), errors.cannot_verify(), errors.admins_only(), errors.busy(2),
        errors.not_in_channel(), errors.no_data("There is no customer data yet."), errors.unexpected("r1"),
        errors.shutting_down(), errors.card_expired(), errors.ingest_requested("Ingestion requested."),
    ):  # fmt: skip
        assert_valid(msg)
    assert "/invite @Audience" in all_text(errors.not_in_channel()) and "r1" in all_text(errors.unexpected("r1"))


@pytest.mark.parametrize("n", [0, 1, 50])
def test_diff_between(n):
    prev = list(range(n))
    cur = list(range(n // 2, n + 3))
    d = Diff.between(prev, cur)
    assert set(d.added) == set(cur) - set(prev) and set(d.removed) == set(prev) - set(cur)
    assert d.kept == len(set(prev) & set(cur))


def test_customer_factory_email_is_only_in_contract():
    assert customer(1).contract()["email"] == "anna1@example.com"
