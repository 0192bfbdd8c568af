"""The service's seams: the typed reason for "no data", the agent's outcome worded as a Result, the
conversation's memory, request ids, the limits, the error base."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from discovery.agent import AgentOutcome
from discovery.compile import behaviour_count_sql
from discovery.errors import DiscoveryError
from discovery.limits import DEFAULT_LIMIT, MAX_LIMIT, clamp_limit
from discovery.query import AnalyticsQuery, AudienceQuery, Behaviour, TimeWindow
from discovery.result import Reason
from discovery.service import NO_DATA, OUTDATED, Conversation, Discovery, agent_result, new_request_id
from discovery.tools import ToolRetry
from ingest import run

BASE = dict(question="q", mode="agent", mode_reason="LLM test")


def test_no_data_yet_is_a_typed_reason(settings):
    result = Discovery.from_settings(settings).answer("customers from Germany", offline=True)
    assert result.reason is Reason.NO_DATA and result.kind == "clarify"
    assert result.answer == NO_DATA  # the bot still shows the same words


def test_data_built_by_an_earlier_version_says_so_and_the_next_run_rebuilds_it(settings, small_sample):
    """A snapshot without a table this version reads (here the any-type color rows) answers no question with
    an error on the missing table: it says the next ingestion rebuilds it, and that run, on unchanged files,
    does."""
    run(settings, small_sample.crm, small_sample.events)
    engine = sa.create_engine(settings.database_url.get_secret_value())
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE customer_any_type_color_times CASCADE"))  # its reader view with it
    engine.dispose()
    discovery = Discovery.from_settings(settings)
    result = discovery.answer("anything red in the last 30 days", offline=True)
    assert result.reason is Reason.NO_DATA and result.answer == OUTDATED

    record = run(settings, small_sample.crm, small_sample.events)

    assert record["status"] == "succeeded"  # not "unchanged": the snapshot is rebuilt
    result = discovery.answer("anything red in the last 30 days", offline=True)
    assert result.kind == "segment" and result.reason is None and result.customers


def test_an_answer_from_data_has_no_reason(seed_settings):
    result = Discovery.from_settings(seed_settings).answer("customers from Germany", offline=True)
    assert result.kind == "segment" and result.reason is None


def test_an_agent_run_without_tools_is_its_question_back():
    assert agent_result(AgentOutcome(text="Which country?"), BASE).answer == "Which country?"
    result = agent_result(AgentOutcome(text=""), BASE)
    assert result.kind == "clarify" and result.answer == "Could you say more about the audience you need?"


def test_a_conversation_remembers_turns_and_plan_only():
    old = {"turns": [["q", "a"]], "last_plan": None, "last_ids": [1, 2]}  # a thread saved before
    conv = Conversation.from_dict(old)
    assert conv.turns == [("q", "a")] and conv.last_plan is None
    assert conv.to_dict() == {"turns": [["q", "a"]], "last_plan": None}


def test_request_ids_are_short_and_distinct():
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)


def test_limits_are_defined_once():
    assert AudienceQuery().limit == DEFAULT_LIMIT
    assert AudienceQuery(limit=MAX_LIMIT).limit == MAX_LIMIT
    with pytest.raises(ValidationError):
        AudienceQuery(limit=MAX_LIMIT + 1)
    with pytest.raises(ValidationError):
        AnalyticsQuery(group_by="country", top=MAX_LIMIT + 1)
    assert [clamp_limit(n) for n in (0, 7.9, MAX_LIMIT * 5)] == [1, 7, MAX_LIMIT]


def test_behaviour_counts_are_compiled_with_bound_values():
    b = Behaviour(event_types=["purchase"], window=TimeWindow(last=30, unit="days"))
    compiled = behaviour_count_sql(b, 0, datetime(2026, 3, 1), [3, 1])
    assert compiled.sql.startswith("SELECT e.customer_id, count(*) FROM events e WHERE e.customer_id = ANY(:ids)")
    assert compiled.sql.endswith("GROUP BY 1")
    assert compiled.params["ids"] == [3, 1] and compiled.params["b0_types"] == ["purchase"]
    assert "purchase" not in compiled.sql  # values are bound, never written into the statement


def test_discovery_errors_share_one_base():
    assert issubclass(ToolRetry, DiscoveryError)
