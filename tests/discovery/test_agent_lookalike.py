"""The agent's lookalike tool: offered once the thread has a segment (or saved audiences resolve), seeded
with that segment, gated by its arguments, ending the run; real stores, the scripted LLM server."""

from __future__ import annotations

import inspect
import json
import re

import pytest
from pydantic import SecretStr

from discovery.service import Conversation, Discovery
from discovery.tools import ToolBox, tool_description
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def llm():
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def agent_settings(seed_settings, llm):
    return seed_settings.model_copy(
        update={
            "openrouter_api_key": SecretStr("k"),
            "llm_api_base": llm.base_url,
            "llm_max_retries": 0,
            "llm_timeout_s": 20,
        }
    )


def react(action: str, args: dict) -> str:
    return f"Thought: I need a tool.\nAction: {action}\nAction Input: {json.dumps(args)}"


def system(request: dict) -> str:
    return request["json"]["messages"][0]["content"]


def test_more_like_these_through_the_agent(agent_settings, llm):
    llm.enqueue(react("hybrid_discovery", {"products": ["socks"], "limit": 10}))
    llm.enqueue(react("lookalike", {"countries": ["DE"], "limit": 15}))
    disc = Discovery.from_settings(agent_settings)
    conv = Conversation()

    first = disc.answer("customers interested in socks", conv)
    seeds = [c.customer_id for c in first.customers]
    assert first.kind == "segment" and len(seeds) == 10 and conv.segment_ids == seeds
    assert "- lookalike:" not in system(llm.requests[0])  # no seeds yet: not offered

    more = disc.answer("find 15 more like these in Germany", conv)
    llm.assert_script_consumed()
    assert len(llm.requests) == 2  # one call per question: the tool ended the run
    assert system(llm.requests[1]).count("- lookalike:") == 1
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


def test_every_lookalike_argument_is_in_its_description():
    described = tool_description(ToolBox.lookalike).splitlines()[1]
    for name in inspect.signature(ToolBox.lookalike).parameters:
        if name != "self":
            assert re.search(rf"\b{name}\b", described), name
