"""The agent (scripted LLM server, real OpenRouter client) on custom attributes: the prompt lists
them, hybrid_discovery takes typed attribute conditions, sql_analytics may read the attributes
table (never a pii one), and the answers equal pandas over the export."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from discovery.service import Discovery
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def agent(loaded):
    with FakeLLMServer() as llm:
        settings = loaded.model_copy(
            update={
                "openrouter_api_key": SecretStr("test-key"),
                "llm_api_base": llm.base_url,
                "llm_max_retries": 0,
                "llm_timeout_s": 20,
            }
        )
        yield Discovery.from_settings(settings), llm


def react(action: str, args: dict) -> str:
    return f"Thought: I need a tool.\nAction: {action}\nAction Input: {json.dumps(args)}"


def test_the_agent_filters_on_attributes_and_sees_them_listed(agent, export):
    disc, llm = agent
    llm.enqueue(
        react(
            "hybrid_discovery",
            {
                "attributes": [
                    {"name": "loyalty_tier", "values": ["gold", "platinum"]},
                    {"name": "e_mail_opt_in", "values": [True]},
                ]
            },
        )
    )
    result = disc.answer("gold or platinum customers who opted in to e-mail")
    df = export.customers
    truth = set(
        df[df["Loyalty Tier"].isin(["gold", "platinum"]) & (df["E-Mail Opt-in"] == "ja")]["Kunden-ID"].astype(int)
    )
    assert result.mode == "agent" and result.funnel.after_gate == len(truth)
    assert {c.customer_id for c in result.customers} <= truth
    prompt = json.dumps(llm.requests[0]["json"]["messages"])
    assert "loyalty_tier (category: " in prompt and "lifetime_orders (integer" in prompt


def test_an_unknown_attribute_is_sent_back_to_the_model(agent):
    disc, llm = agent
    llm.enqueue(react("hybrid_discovery", {"attributes": [{"name": "shoe_size", "values": ["42"]}]}))
    llm.enqueue("Thought: no such attribute.\nAnswer: The data has no shoe size.")
    result = disc.answer("customers with shoe size 42")
    observation = json.dumps(llm.requests[1]["json"]["messages"])
    assert "Unknown attribute 'shoe_size'" in observation and "loyalty_tier" in observation
    assert result.answer == "The data has no shoe size."


def test_sql_analytics_reads_the_attributes_table(agent, export):
    disc, llm = agent
    llm.enqueue(react("sql_analytics", {"question": "customers per loyalty tier"}))
    llm.enqueue(
        "SELECT loyalty_tier, count(*) AS customers FROM customer_attributes GROUP BY 1 ORDER BY 1",
    )
    result = disc.answer("how many customers per loyalty tier")
    assert result.kind == "analytics"
    assert {r[0]: r[1] for r in result.rows} == export.customers["Loyalty Tier"].value_counts().to_dict()
