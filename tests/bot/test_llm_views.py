"""The LLM's problems on the status card and the cost text of the result card."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.views.result_card import cost_text, footer_text
from bot.views.status import status_message
from discovery.result import Usage
from tests.bot.factories import analytics
from tests.fakes.slack import validate_message

INFO = {"live": False, "runs": []}


def test_status_shows_the_llm_problem_and_what_to_set():
    problem = "LLM_MODEL google/gemini-2.0-flash-001 is not offered by https://openrouter.ai/api/v1; set LLM_MODEL"
    msg = status_message(
        INFO, answers_from="the offline planner", next_run=datetime(2026, 11, 24, 2, tzinfo=UTC), schedule="x",
        llm_problem=problem,
    )  # fmt: skip
    validate_message(msg)
    text = json.dumps(msg)
    assert ":warning: LLM: " in text and "google/gemini-2.0-flash-001" in text and "set LLM_MODEL" in text
    plain = status_message(INFO, answers_from="the offline planner", next_run=None, schedule="x")
    assert ":warning:" not in json.dumps(plain)


def test_an_unknown_cost_is_said_never_zero():
    r = analytics()
    r.usage = Usage(llm_prompt_tokens=1200, llm_completion_tokens=80, llm_calls=2, cost_known=False)
    assert "cost unknown" in footer_text(r) and "$0" not in footer_text(r)
    assert cost_text(0.00015) == "$0.00015"
