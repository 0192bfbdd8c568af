"""The ReAct agent end to end: LlamaIndex ReActAgent + the real OpenRouter client pointed at
the scripted OpenAI-compatible server; real PostgreSQL, Qdrant and embedder."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery, Behaviour, CRMFilter
from discovery.service import Discovery
from discovery.usage import DEFAULT_PRICES, cost_usd
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def llm():
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def agent_settings(seed_settings, llm):
    return seed_settings.model_copy(
        update={
            "openrouter_api_key": SecretStr("test-key"),
            "llm_api_base": llm.base_url,
            "llm_max_retries": 0,
            "llm_timeout_s": 20,
        }
    )


def react(action: str, args: dict) -> str:
    return f"Thought: I need a tool to answer.\nAction: {action}\nAction Input: {json.dumps(args)}"


def final(text: str) -> str:
    return f"Thought: I can answer without using any more tools.\nAnswer: {text}"


def test_agent_calls_hybrid_discovery_and_the_segment_comes_from_the_tool(agent_settings, llm):
    llm.enqueue(
        react(
            "hybrid_discovery",
            {"event_types": ["purchase"], "products": ["socks"], "likes_luxury": True, "intent": "luxury", "limit": 10},
        ),
        prompt_tokens=900,
        completion_tokens=60,
    )
    llm.enqueue(final("I found luxury customers who bought socks."), prompt_tokens=1300, completion_tokens=20)

    disc = Discovery.from_settings(agent_settings)
    result = disc.answer("customers who bought socks and like luxury")

    assert result.mode == "agent" and result.kind == "segment"
    assert result.answer == "I found luxury customers who bought socks."
    # the customers are exactly what the tool's query returns, independently recomputed
    q = AudienceQuery(
        behaviours=[Behaviour(event_types=["purchase"], products=["socks"])],
        crm=CRMFilter(likes_luxury=True),
        intent="luxury",
        limit=10,
    )
    de = DiscoveryEngine(
        agent_settings,
        disc.engine,
        disc.qdrant,
        disc.embedder,
        __import__("discovery.catalogue", fromlist=["x"]).load_catalogue(disc.engine),
    )
    expected = [c.customer_id for c in de.hybrid(q).customers]
    assert [c.customer_id for c in result.customers] == expected and len(expected) == 10
    assert all(c.likes_luxury for c in result.customers)
    # usage is the provider's, per request; cost from the price table
    assert (result.usage.llm_calls, result.usage.llm_prompt_tokens, result.usage.llm_completion_tokens) == (2, 2200, 80)
    assert result.usage.cost_usd == cost_usd(agent_settings.llm_model, 2200, 80, DEFAULT_PRICES) > 0
    assert result.usage.embedding_tokens > 0
    # the model saw the vocabulary, and never an email
    first = json.dumps(llm.requests[0]["json"]["messages"])
    assert "socks" in first and "DE" in first
    everything = json.dumps([r["json"] for r in llm.requests])
    assert "@demo.com" not in everything
    observation = json.dumps(llm.requests[1]["json"]["messages"][-1])
    assert "after_gate" in observation
    doc = result.to_json()
    assert doc["mode"] == "agent" and doc["recipe"]["model"] == agent_settings.llm_model
    assert doc["recipe"]["query"]["crm"] == {"likes_luxury": True}


def test_agent_sql_analytics_runs_guarded_sql(agent_settings, llm):
    llm.enqueue(react("sql_analytics", {"question": "How many customers are from Germany?"}))
    llm.enqueue("SELECT count(*) AS customers FROM customers WHERE country = 'DE'")  # the text-to-SQL call
    llm.enqueue(final("There are 129 customers from Germany."))

    result = Discovery.from_settings(agent_settings).answer("How many customers from Germany?")

    assert result.kind == "analytics" and result.columns == ["customers"] and result.rows == [[129]]
    assert "LIMIT" in result.recipe.sql[0]  # the guard's re-rendered SQL ran, not the model's text
    assert result.usage.llm_calls == 3


def test_agent_sql_blocked_by_the_guard_is_reported(agent_settings, llm):
    llm.enqueue(react("sql_analytics", {"question": "remove everyone"}))
    llm.enqueue("DELETE FROM customers")
    llm.enqueue(final("I cannot do that."))

    disc = Discovery.from_settings(agent_settings)
    result = disc.answer("delete all customers")

    assert result.kind == "clarify"
    assert any("blocked SQL" in n and "SELECT" in n for n in result.notes)
    with disc.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM customers").scalar() == 500
    observation = json.dumps(llm.requests[2]["json"]["messages"][-1])
    assert "not run" in observation
