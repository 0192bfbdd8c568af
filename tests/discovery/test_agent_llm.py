"""The LLM through the real OpenRouter client against the scripted server: the request names the fallback
models and asks for usage accounting, the cost is the provider's (the price table only as a fallback, an
unpriced model is "cost unknown"), failures of one kind pause the calls, a missing model is not called."""

from __future__ import annotations

import json
import time

import pytest

from bot.views.result_card import footer_text
from discovery import llm_health
from discovery.cli import render_text
from discovery.service import Discovery
from discovery.usage import DEFAULT_PRICES, cost_usd
from tests.fakes.llm_server import FakeLLMServer

QUESTION = "customers who bought socks and like luxury"
CHAT = "/v1/chat/completions"


def react(action: str, args: dict) -> str:
    return f"Thought: I need a tool to answer.\nAction: {action}\nAction Input: {json.dumps(args)}"


DISCOVER = react("hybrid_discovery", {"event_types": ["purchase"], "products": ["socks"], "likes_luxury": True})


def chats(server: FakeLLMServer) -> list[dict]:
    return [r for r in server.requests if r["path"] == CHAT]


def test_the_request_names_the_fallbacks_and_asks_for_usage_accounting(agent_settings, llm):
    llm.enqueue(DISCOVER, prompt_tokens=900, completion_tokens=60)
    result = Discovery.from_settings(agent_settings).answer(QUESTION)
    assert result.mode == "agent"
    body = llm.last_request["json"]
    assert body["model"] == "google/gemini-3.5-flash"
    assert body["models"] == ["google/gemini-3.5-flash", "google/gemini-3.1-flash-lite"]
    assert body["usage"] == {"include": True}
    assert body["reasoning"] == {"effort": "low", "exclude": True}  # fast: little thinking, none sent back
    assert body["max_tokens"] == agent_settings.llm_max_tokens


def test_the_provider_reported_cost_is_the_cost(agent_settings, llm):
    llm.enqueue(DISCOVER, prompt_tokens=900, completion_tokens=60, cost=0.00321)
    result = Discovery.from_settings(agent_settings).answer(QUESTION)
    assert result.mode == "agent" and result.usage.llm_calls == 1
    assert result.usage.cost_usd == 0.00321 != cost_usd(agent_settings.llm_model, 900, 60, DEFAULT_PRICES)
    assert result.usage.cost_known and result.to_json()["usage"]["cost_known"] is True


def test_a_fallback_that_answered_is_priced_as_itself(agent_settings, llm):
    llm.enqueue(DISCOVER, prompt_tokens=900, completion_tokens=60, model="google/gemini-3.1-flash-lite")
    result = Discovery.from_settings(agent_settings).answer(QUESTION)
    assert result.usage.cost_usd == cost_usd("google/gemini-3.1-flash-lite", 900, 60, DEFAULT_PRICES) > 0
    assert result.usage.cost_known


def test_an_unpriced_model_is_cost_unknown_never_zero(agent_settings, llm):
    llm.models.append("someone/new-model")
    settings = agent_settings.model_copy(update={"llm_model": "someone/new-model", "llm_fallback_models": ""})
    llm.enqueue(DISCOVER, prompt_tokens=900, completion_tokens=60)
    result = Discovery.from_settings(settings).answer(QUESTION)
    assert result.mode == "agent" and result.usage.llm_calls == 1
    assert result.usage.cost_known is False
    assert "cost unknown" in render_text(result) and "$0.0" not in render_text(result)
    assert "cost unknown" in footer_text(result) and "$0" not in footer_text(result)
    assert result.to_json()["usage"]["cost_known"] is False


@pytest.mark.parametrize(("status", "kind_word"), [(401, "OPENROUTER_API_KEY"), (404, "LLM_MODEL"), (402, "credit")])
def test_repeated_failures_of_one_kind_pause_the_llm(agent_settings, llm, status, kind_word):
    settings = agent_settings.model_copy(update={"llm_cooldown_s": 1.5})
    disc = Discovery.from_settings(settings)
    for _ in range(3):
        llm.enqueue_error(status)
    for _ in range(3):  # each question pays one failed call, then the offline planner answers
        r = disc.answer(QUESTION)
        assert r.mode == "offline" and r.customers and "the LLM failed" in r.mode_reason
    assert len(chats(llm)) == 3
    paused = disc.answer(QUESTION)  # no call at all now
    assert len(chats(llm)) == 3
    assert paused.mode == "offline" and paused.customers
    assert paused.mode_reason.startswith("LLM unavailable (") and kind_word in paused.mode_reason
    assert paused.mode_reason.endswith("): answered by the offline planner")
    assert any("LLM_COOLDOWN_S" in n for n in paused.notes)
    assert llm_health.problem(settings) is not None
    time.sleep(1.6)  # the cool-down is over: the next question asks the LLM again, and it answers
    llm.enqueue(DISCOVER)
    again = disc.answer(QUESTION)
    assert again.mode == "agent" and len(chats(llm)) == 4
    assert llm_health.problem(settings) is None
    llm.assert_script_consumed()


def test_server_errors_and_timeouts_do_not_pause_the_llm(agent_settings, llm):
    disc = Discovery.from_settings(agent_settings)
    for _ in range(4):
        llm.enqueue_error(500)
    for _ in range(4):
        assert disc.answer(QUESTION).mode_reason.startswith("the LLM failed")
    assert len(chats(llm)) == 4


def test_a_model_the_provider_does_not_offer_is_never_called(agent_settings, llm):
    settings = agent_settings.model_copy(update={"llm_model": "google/gemini-2.0-flash-001"})
    message = llm_health.check_model(settings)
    assert message and "google/gemini-2.0-flash-001" in message and "LLM_MODEL" in message
    r = Discovery.from_settings(settings).answer(QUESTION)
    assert r.mode == "offline" and r.customers and not chats(llm)
    assert r.mode_reason.startswith("LLM unavailable (") and "google/gemini-2.0-flash-001" in r.mode_reason
