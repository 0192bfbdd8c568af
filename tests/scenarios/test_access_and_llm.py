"""End to end: who may ask (allowlists, guests), the LLM agent through the scripted LLM server (success,
failure → offline planner, SQL blocked by the guard), and a database with no data yet."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import SecretStr

from discovery.llm_health import check_model
from tests.bot.harness import card_text, json_of, running_bot

QUESTION = "customers who bought socks"
ANSWER = "Thought: I can answer without using any more tools.\nAnswer: {}"


def test_unauthorized_user_and_channel_are_refused(slack, loaded):
    settings = loaded.model_copy(update={"allowed_users": "U_OK", "allowed_channels": "C_OK,D_OK"})
    slack.add_user("U_OK")
    with running_bot(slack, settings) as bot:
        slack.send_slash_command("/audience", text=QUESTION, user_id="U_USER", channel_id="C_OK")
        refusal = slack.wait_message(lambda m: m.kind == "response_url")
        assert refusal.response_type == "ephemeral" and "can't use Audience Discovery" in card_text(refusal)

        slack.send_app_mention(f"<@U_BOT> {QUESTION}", user_id="U_OK", channel_id="C_NOPE")
        eph = slack.wait_message(lambda m: m.kind == "chat.postEphemeral")
        assert eph.user == "U_OK" and eph.channel == "C_NOPE"
        time.sleep(0.5)
        assert not slack.messages(kind="chat.postMessage") and not slack.files()

        slack.send_slash_command("/audience", text=QUESTION, user_id="U_OK", channel_id="C_OK")
        bot.card_for("C_OK", bot.first_post("C_OK").ts)
    slack.assert_all_messages_valid()


def test_guest_is_refused(slack, loaded):
    slack.add_user("U_GUEST", is_restricted=True)
    slack.add_user("U_SINGLE", is_ultra_restricted=True)
    with running_bot(slack, loaded):
        slack.send_slash_command("/audience", text=QUESTION, user_id="U_GUEST", channel_id="C1")
        slack.send_app_mention(f"<@U_BOT> {QUESTION}", user_id="U_SINGLE", channel_id="C1")
        refusal = slack.wait_message(lambda m: m.kind == "response_url")
        assert "guest" in card_text(refusal)
        eph = slack.wait_message(lambda m: m.kind == "chat.postEphemeral")
        assert "guest" in card_text(eph) and eph.user == "U_SINGLE"
        time.sleep(0.5)
        assert not slack.messages(kind="chat.postMessage")
    slack.assert_all_messages_valid()


def llm_settings(loaded, llm_server):
    return loaded.model_copy(
        update={"openrouter_api_key": SecretStr("test-key"), "llm_api_base": llm_server.base_url, "llm_timeout_s": 10}
    )


@pytest.mark.parametrize("failure", ["error", "slow"])
def test_llm_failure_falls_back_to_the_offline_planner(slack, loaded, llm_server, failure):
    settings = llm_settings(loaded, llm_server)
    if failure == "error":
        llm_server.enqueue_error(500)
        reason = "the LLM failed"
    else:
        llm_server.enqueue_delay(8.0)
        settings = settings.model_copy(update={"llm_timeout_s": 1.5})
        reason = "the LLM failed (TimeoutError)"
    with running_bot(slack, settings) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C2")
        root = bot.first_post("C2")
        text = card_text(bot.card_for("C2", root.ts, timeout=20))
        assert f"Offline planner — {reason}" in text
        doc = json_of(bot.files_in("C2", root.ts)[0])
        assert doc["mode"] == "offline" and doc["funnel"]["returned"] > 0
        assert llm_server.requests, "the agent did try the LLM"
    slack.assert_all_messages_valid()


def test_llm_agent_answer_shows_tokens_and_model(slack, loaded, llm_server):
    llm_server.enqueue(
        'Thought: I need the socks buyers.\nAction: hybrid_discovery\nAction Input: {"event_types": ["purchase"], "products": ["socks"]}',
        prompt_tokens=900,
        completion_tokens=40,
    )
    with running_bot(slack, llm_settings(loaded, llm_server)) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C3")
        root = bot.first_post("C3")
        text = card_text(bot.card_for("C3", root.ts, timeout=20))
        assert "LLM agent" in text and "940 LLM tokens (1 call)" in text and "google/gemini-3.5-flash" in text
        doc = json_of(bot.files_in("C3", root.ts)[0])
        assert doc["mode"] == "agent" and doc["usage"]["llm_calls"] == 1 and doc["funnel"]["returned"] > 0
        # one LLM call: the tool's result is the answer, worded from the segment (not its JSON summary)
        f = doc["funnel"]
        assert (
            doc["answer"]
            == f"{f['after_gate']:,} of 80 customers match purchase of socks. Showing the top {f['returned']}."
        )
        assert doc["answer"] in text and "after_gate" not in text
        llm_server.assert_script_consumed()
    slack.assert_all_messages_valid()


def test_a_model_the_provider_does_not_offer_is_said_at_start_on_the_card_and_in_status(slack, loaded, llm_server):
    settings = llm_settings(loaded, llm_server).model_copy(update={"llm_model": "google/gemini-2.0-flash-001"})
    problem = check_model(settings)  # what `python -m bot` does at start
    assert problem and "google/gemini-2.0-flash-001" in problem and "set LLM_MODEL" in problem
    with running_bot(slack, settings) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C7")
        root = bot.first_post("C7")
        text = card_text(bot.card_for("C7", root.ts, timeout=20))
        assert "Offline planner — LLM unavailable (LLM_MODEL google/gemini-2.0-flash-001 is not offered" in text
        assert "answered by the offline planner" in text
        assert json_of(bot.files_in("C7", root.ts)[0])["funnel"]["returned"] > 0
        slack.send_slash_command("/audience", text="status", channel_id="C7")
        status = slack.wait_message(lambda m: m.kind == "response_url", timeout=15)
        blocks = json.dumps(status.blocks)
        assert ":warning: LLM: LLM_MODEL google/gemini-2.0-flash-001 is not offered" in blocks
        assert "set LLM_MODEL" in blocks
    assert not [r for r in llm_server.requests if r["path"] == "/v1/chat/completions"]  # no failed call paid
    slack.assert_all_messages_valid()


def test_sql_blocked_by_the_guard_is_explained(slack, loaded, llm_server):
    llm_server.enqueue('Thought: count.\nAction: sql_analytics\nAction Input: {"question": "remove everyone"}')
    llm_server.enqueue("DELETE FROM customers")
    llm_server.enqueue(ANSWER.format("I could not run that query. Tell <!channel> about <@U999>!"))
    with running_bot(slack, llm_settings(loaded, llm_server)) as bot:
        slack.send_slash_command("/audience", text="delete all customers", channel_id="C4")
        root = bot.first_post("C4")
        text = card_text(bot.card_for("C4", root.ts, timeout=20))
        assert "blocked SQL" in text and "I could not run that query" in text
        assert "<!channel>" not in text and "<@U999>" not in text  # the model's own words are scrubbed
        with bot.discovery.engine.connect() as conn:
            from sqlalchemy import text as sql

            assert conn.execute(sql("SELECT count(*) FROM customers")).scalar() == 80
    slack.assert_all_messages_valid()


def test_no_data_yet_says_how_to_ingest(slack, settings):
    with running_bot(slack, settings) as bot:
        slack.send_slash_command("/audience", text=QUESTION, channel_id="C5")
        root = bot.first_post("C5")
        text = card_text(bot.card_for("C5", root.ts))
        assert "python -m ingest run" in text and "/audience ingest" in text
        slack.send_slash_command("/audience", text="status", channel_id="C5")
        status = slack.wait_message(lambda m: m.kind == "response_url", timeout=15)
        assert "No customer data yet" in json.dumps(status.blocks)
    slack.assert_all_messages_valid()
