"""The evaluation end to end on a small generated sample: real PostgreSQL, Qdrant local mode
and embedder; the offline planner, and the agent against the scripted OpenAI-compatible server."""

from __future__ import annotations

from pydantic import SecretStr

from bench.eval.cases import CATEGORIES
from bench.eval.report import HEADING, render, write_section
from bench.eval.runner import NOW, run_eval
from bench.llm_scenarios import react
from ingest.sample import generate
from tests.fakes.llm_server import FakeLLMServer


def test_a_limited_run_reports_every_category_for_both_modes(settings, tmp_path):
    files = generate(tmp_path / "sample", 60, 6, seed=42, end=NOW)
    with FakeLLMServer() as llm:
        # the agent answers the first two questions (one per category, in turn: a count, an average; each a
        # ReAct step and the tool's text-to-SQL call, whose result ends the run) ...
        llm.enqueue(
            react("sql_analytics", {"question": "How many customers?"}), prompt_tokens=800, completion_tokens=40
        )
        llm.enqueue("SELECT count(*) AS customers FROM customers", prompt_tokens=200, completion_tokens=10)
        llm.enqueue(react("sql_analytics", {"question": "Average age?"}), prompt_tokens=800, completion_tokens=40)
        llm.enqueue("SELECT round(avg(age), 2) AS avg_age FROM customers")
        for _ in range(9):  # ... then the LLM fails and the offline planner answers (8 questions, 9 turns)
            llm.enqueue_error(500)
        agent_settings = settings.model_copy(
            update={"openrouter_api_key": SecretStr("k"), "llm_api_base": llm.base_url, "llm_max_retries": 0}
        )
        run = run_eval(agent_settings, files.crm, files.events, limit=10)
        llm.assert_script_consumed()

    offline, agent = run.outcomes["offline"], run.outcomes["agent"]
    assert [o.case.category for o in offline] == list(CATEGORIES) == [o.case.category for o in agent]
    assert (run.customers, run.events) == (60, files.events_count)
    by_id = {o.case.id: o for o in offline}
    assert by_id["count-all"].score.right and by_id["vague-target"].score.right and by_id["watch-january"].score.right
    assert by_id["red-socks-6m"].score.precision is not None
    assert [(o.score.right, o.answered_by) for o in agent[:2]] == [(True, "agent"), (True, "agent")]
    assert (agent[0].usage.llm_calls, agent[0].usage.llm_prompt_tokens, agent[0].usage.llm_completion_tokens) == (
        2,
        1000,
        50,
    )
    assert agent[0].usage.cost_usd > 0
    assert {o.answered_by for o in agent[2:]} == {"offline"}

    text = render(run)
    for category in CATEGORIES:
        assert f"| {category} | 1 |" in text  # side by side: one question per category
    assert "60 customers" in text and "Offline planner: **" in text and "Agent: **" in text
    assert "8 answers fell back to the offline planner" in text and "cost / question" in text
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Not yet measured\n", encoding="utf-8")
    write_section(results, text)
    write_section(results, text)
    assert results.read_text(encoding="utf-8").count(HEADING) == 1
