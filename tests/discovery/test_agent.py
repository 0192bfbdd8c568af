"""The ReAct agent end to end: LlamaIndex ReActAgent + the real OpenRouter client pointed at
the scripted OpenAI-compatible server; real PostgreSQL, Qdrant and embedder."""

from __future__ import annotations

import inspect
import json
import re
from datetime import datetime

import pytest

from bench.llm_calls import tokenizer
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.query import AudienceQuery, Behaviour, CRMFilter, TimeWindow
from discovery.service import Conversation, Discovery, describe_segment
from discovery.tools import ToolBox, tool_description
from discovery.usage import DEFAULT_PRICES, cost_usd


def react(action: str, args: dict) -> str:
    return f"Thought: I need a tool to answer.\nAction: {action}\nAction Input: {json.dumps(args)}"


def final(text: str) -> str:
    return f"Thought: I can answer without using any more tools.\nAnswer: {text}"


def recomputed(disc: Discovery, settings, q: AudienceQuery, now: datetime | None = None):
    """The segment of `q`, computed again straight on the engine (not through the agent)."""
    de = DiscoveryEngine(settings, disc.engine, disc.qdrant, disc.embedder, load_catalogue(disc.engine))
    return de.hybrid(q, now=now)


def system_message(request: dict) -> str:
    first = request["json"]["messages"][0]
    assert first["role"] == "system"
    return first["content"]


def test_a_successful_discovery_is_one_llm_call_and_the_segment_comes_from_the_tool(agent_settings, llm):
    llm.enqueue(
        react(
            "hybrid_discovery",
            {"event_types": ["purchase"], "products": ["socks"], "likes_luxury": True, "intent": "luxury", "limit": 10},
        ),
        prompt_tokens=900,
        completion_tokens=60,
    )

    disc = Discovery.from_settings(agent_settings)
    result = disc.answer("customers who bought socks and like luxury")

    assert result.mode == "agent" and result.kind == "segment"
    llm.assert_script_consumed()
    assert len(llm.requests) == 1  # the tool's result ended the run: no second ReAct step
    # the customers are exactly what the tool's query returns, independently recomputed
    q = AudienceQuery(
        behaviours=[Behaviour(event_types=["purchase"], products=["socks"])],
        crm=CRMFilter(likes_luxury=True),
        intent="luxury",
        limit=10,
    )
    seg = recomputed(disc, agent_settings, q)
    expected = [c.customer_id for c in seg.customers]
    assert [c.customer_id for c in result.customers] == expected and len(expected) == 10
    assert all(c.likes_luxury for c in result.customers)
    # the answer is readable text worded from the segment, not the JSON summary the tool returned
    assert result.answer == describe_segment(seg, q)
    assert result.answer.startswith(f"{seg.funnel.after_gate:,} of 500 customers match purchase of socks")
    assert "{" not in result.answer and "after_gate" not in result.answer
    # usage is the provider's, per request; cost from the price table
    assert (result.usage.llm_calls, result.usage.llm_prompt_tokens, result.usage.llm_completion_tokens) == (1, 900, 60)
    assert result.usage.cost_usd == cost_usd(agent_settings.llm_model, 900, 60, DEFAULT_PRICES) > 0
    assert result.usage.embedding_tokens > 0
    # the model saw the vocabulary, and never an email
    first = json.dumps(llm.requests[0]["json"]["messages"])
    assert "socks" in first and "DE" in first
    assert "@demo.com" not in first
    doc = result.to_json()
    assert doc["mode"] == "agent" and doc["recipe"]["model"] == agent_settings.llm_model
    assert doc["recipe"]["query"]["crm"] == {"likes_luxury": True}


SYSTEM_BUDGET = 620  # tokens (tiktoken cl100k_base) on the seed data; 2,518 with LlamaIndex's header and JSON schemas


def test_the_react_system_message_is_compact(agent_settings, llm):
    llm.enqueue(final("Which country should the audience be in?"))

    result = Discovery.from_settings(agent_settings).answer("an audience please")

    assert result.kind == "clarify" and result.answer == "Which country should the audience be in?"
    system = system_message(llm.requests[0])
    # every tool, once, with its arguments in one line; no JSON schema, no LlamaIndex boilerplate
    for name in ("hybrid_discovery", "semantic_search", "sql_analytics", "sql_data_retriever"):
        assert system.count(f"- {name}:") == 1
    assert "exclude_countries" in system and "order_by: relevance|total_spent" in system
    assert '"properties"' not in system and '"type"' not in system and "Tool Args" not in system
    assert "Thought:" in system and "Action Input:" in system and "Answer:" in system
    assert "the current language of the user" not in system.lower()
    # the stored vocabulary is there (the model must use stored values)
    assert "Countries: " in system and "DE" in system and "socks" in system and "purchase" in system
    tokens = len(tokenizer().encode(system))
    assert tokens <= SYSTEM_BUDGET, f"the ReAct system message grew to {tokens} tokens"


@pytest.mark.parametrize("tool", ["hybrid_discovery", "semantic_search", "sql_analytics", "sql_data_retriever"])
def test_every_tool_argument_is_in_its_description(tool):
    fn = getattr(ToolBox, tool)
    described = tool_description(fn).splitlines()[1]
    for name in inspect.signature(fn).parameters:
        if name != "self":
            assert re.search(rf"\b{name}\b", described), f"{tool}: argument {name} is not described"


def test_agent_sql_analytics_runs_guarded_sql(agent_settings, llm):
    llm.enqueue(react("sql_analytics", {"question": "How many customers are from Germany?"}))
    llm.enqueue("SELECT count(*) AS customers FROM customers WHERE country = 'DE'")  # the text-to-SQL call

    result = Discovery.from_settings(agent_settings).answer("How many customers from Germany?")

    assert result.kind == "analytics" and result.columns == ["customers"] and result.rows == [[129]]
    assert result.answer == "customers: 129"
    assert "LIMIT" in result.recipe.sql[0]  # the guard's re-rendered SQL ran, not the model's text
    assert result.usage.llm_calls == 2
    llm.assert_script_consumed()


def test_agent_sql_blocked_by_the_guard_is_reported(agent_settings, llm):
    llm.enqueue(react("sql_analytics", {"question": "remove everyone"}))
    llm.enqueue("DELETE FROM customers")
    llm.enqueue(final("I cannot do that."))

    disc = Discovery.from_settings(agent_settings)
    result = disc.answer("delete all customers")

    assert result.kind == "clarify" and result.answer == "I cannot do that."
    assert any("blocked SQL" in n and "SELECT" in n for n in result.notes)
    with disc.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM customers").scalar() == 500
    observation = json.dumps(llm.requests[2]["json"]["messages"][-1])
    assert "not run" in observation


def test_blocked_sql_is_recorded_and_a_second_attempt_answers(agent_settings, llm):
    llm.enqueue(react("sql_analytics", {"question": "How many customers?"}))
    llm.enqueue("DELETE FROM customers")
    llm.enqueue(react("sql_analytics", {"question": "Count the customers"}))
    llm.enqueue("SELECT count(*) AS customers FROM customers")

    result = Discovery.from_settings(agent_settings).answer("How many customers?")

    llm.assert_script_consumed()
    assert result.kind == "analytics" and result.rows == [[500]] and result.answer == "customers: 500"
    assert any("blocked SQL" in n for n in result.notes)
    assert "not run" in json.dumps(llm.requests[2]["json"]["messages"][-1])
    assert result.usage.llm_calls == 4


def test_a_rejected_sql_where_is_recorded_and_the_model_retries(agent_settings, llm):
    llm.enqueue(
        react(
            "hybrid_discovery",
            {"products": ["socks"], "sql_where": "customer_id IN (SELECT customer_id FROM customers WHERE age < 30)"},
        )
    )
    llm.enqueue(react("hybrid_discovery", {"products": ["socks"], "max_age": 29}))

    disc = Discovery.from_settings(agent_settings)
    result = disc.answer("young customers who looked at socks")

    llm.assert_script_consumed()
    assert len(llm.requests) == 2
    observation = llm.requests[1]["json"]["messages"][-1]["content"]
    assert "sql_where rejected" in observation and "typed arguments" in observation
    assert any(n.startswith("blocked SQL") and "customers" in n for n in result.notes)
    q = AudienceQuery(behaviours=[Behaviour(products=["socks"])], crm=CRMFilter(max_age=29))
    expected = recomputed(disc, agent_settings, q).customers
    assert expected and [c.customer_id for c in result.customers] == [c.customer_id for c in expected]
    assert all(c.age <= 29 for c in result.customers)


def test_a_sql_where_postgresql_refuses_is_recorded_and_the_model_retries(agent_settings, llm):
    """It passes the guard (one condition over the events' columns) but cannot run: the model is told
    why in words it can act on, and the refusal is in the Result's notes."""
    llm.enqueue(react("hybrid_discovery", {"products": ["socks"], "sql_where": "event_timestamp > 5"}))
    llm.enqueue(react("hybrid_discovery", {"products": ["socks"]}))

    disc = Discovery.from_settings(agent_settings)
    result = disc.answer("customers who looked at socks lately")

    llm.assert_script_consumed()
    observation = llm.requests[1]["json"]["messages"][-1]["content"]
    assert "sql_where failed" in observation and "could not run" in observation and "typed arguments" in observation
    assert any(n.startswith("blocked SQL: sql_where") for n in result.notes)
    assert result.kind == "segment" and result.customers


NOW = datetime(2026, 3, 1, 12, 0)  # the seed data's events end 2026-02-19


def test_an_empty_gate_is_an_error_the_model_sees_and_retries(agent_settings, llm):
    llm.enqueue(react("hybrid_discovery", {"event_types": ["purchase"], "products": ["socks"], "last_days": 3}))
    llm.enqueue(react("hybrid_discovery", {"event_types": ["purchase"], "products": ["socks"], "last_days": 30}))

    disc = Discovery.from_settings(agent_settings)
    result = disc.answer("customers who bought socks in the last few days", now=NOW)

    llm.assert_script_consumed()
    assert len(llm.requests) == 2
    observation = llm.requests[1]["json"]["messages"][-1]["content"]
    assert "No customers found" in observation and "no events after 2026-02-19" in observation
    assert "longer window" in observation
    # the second call's segment is the answer
    q = AudienceQuery(
        behaviours=[Behaviour(event_types=["purchase"], products=["socks"], window=TimeWindow(last=30, unit="days"))]
    )
    seg = recomputed(disc, agent_settings, q, now=NOW)
    assert seg.customers and [c.customer_id for c in result.customers] == [c.customer_id for c in seg.customers]
    assert result.answer == describe_segment(seg, q) and "in the last 30 days" in result.answer
    assert result.recipe.query["behaviours"][0]["window"]["last"] == 30
    assert len(result.recipe.sql) > len(seg.sql)  # both attempts' SQL are in the recipe


def test_when_the_model_gives_up_on_an_empty_gate_the_answer_says_why(agent_settings, llm):
    llm.enqueue(react("hybrid_discovery", {"event_types": ["purchase"], "products": ["socks"], "last_days": 3}))
    llm.enqueue(final("Nobody bought socks that recently."))

    result = Discovery.from_settings(agent_settings).answer("socks buyers of the last three days", now=NOW)

    llm.assert_script_consumed()
    assert result.kind == "segment" and not result.customers and result.funnel.after_gate == 0
    assert result.answer.startswith("No customers found: no purchase of socks in the last 3 days")
    assert "no events after 2026-02-19" in result.answer and result.answer.endswith(
        "Nobody bought socks that recently."
    )
    assert any("try a longer window" in n for n in result.notes)


def test_an_empty_semantic_search_asks_for_fewer_filters_not_a_longer_window(agent_settings, llm):
    llm.enqueue(react("semantic_search", {"intent": "luxury fashion", "countries": ["ZZ"]}))
    llm.enqueue(react("semantic_search", {"intent": "luxury fashion"}))

    result = Discovery.from_settings(agent_settings).answer("luxury fashion fans in Zedland")

    llm.assert_script_consumed()
    observation = llm.requests[1]["json"]["messages"][-1]["content"]
    assert "No customers found" in observation and "fewer products or filters" in observation
    assert "window" not in observation
    assert result.kind == "segment" and len(result.customers) == 20


# -- the lookalike tool: offered once the thread has a segment (or saved audiences resolve) ----------------


def test_more_like_these_through_the_agent(agent_settings, llm):
    llm.enqueue(react("hybrid_discovery", {"products": ["socks"], "limit": 10}))
    llm.enqueue(react("lookalike", {"countries": ["DE"], "limit": 15}))
    disc = Discovery.from_settings(agent_settings)
    conv = Conversation()

    first = disc.answer("customers interested in socks", conv)
    seeds = [c.customer_id for c in first.customers]
    assert first.kind == "segment" and len(seeds) == 10 and conv.segment_ids == seeds
    assert "- lookalike:" not in system_message(llm.requests[0])  # no seeds yet: not offered

    more = disc.answer("find 15 more like these in Germany", conv)
    llm.assert_script_consumed()
    assert len(llm.requests) == 2  # one call per question: the tool ended the run
    assert system_message(llm.requests[1]).count("- lookalike:") == 1
    ids = [c.customer_id for c in more.customers]
    assert more.mode == "agent" and more.kind == "segment" and len(ids) == 15
    assert not set(ids) & set(seeds) and all(c.country == "DE" for c in more.customers)
    assert more.funnel.stage == "lookalike" and more.recipe.query["like"]["seed_ids"] == seeds
    assert more.answer.startswith("The 15 customers most like 10 seed customers among the")
    assert conv.segment_ids == ids


def test_a_lookalike_without_seeds_is_retried_by_the_model(agent_settings, llm):
    disc = Discovery.from_settings(agent_settings, seed_resolver={"VIP": [1, 2, 3]}.get)
    llm.enqueue(react("lookalike", {"audience": "Luxury PL"}))
    llm.enqueue(react("lookalike", {"audience": "VIP", "limit": 5}))
    r = disc.answer("customers like the Luxury PL audience")
    llm.assert_script_consumed()
    assert "no saved audience named “Luxury PL”" in llm.requests[1]["json"]["messages"][-1]["content"]
    assert r.kind == "segment" and len(r.customers) == 5 and not {c.customer_id for c in r.customers} & {1, 2, 3}
    assert r.recipe.query["like"] == {"seed_audience": "VIP"}
    assert "- lookalike:" in system_message(llm.requests[0])


def test_the_lookalike_tool_is_not_offered_without_seeds(agent_settings, llm):
    llm.enqueue(final("Which customers?"))
    disc = Discovery.from_settings(agent_settings, seed_resolver={"VIP": [1, 2, 3]}.get)
    disc.answer("customers from Germany")  # no segment in the thread, no saved audience named
    assert "- lookalike:" not in system_message(llm.requests[0])


def test_every_lookalike_argument_is_in_its_description():
    described = tool_description(ToolBox.lookalike).splitlines()[1]
    for name in inspect.signature(ToolBox.lookalike).parameters:
        if name != "self":
            assert re.search(rf"\b{name}\b", described), name
