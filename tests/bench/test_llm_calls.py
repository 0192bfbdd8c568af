"""bench llm-calls in small: on one scripted question our agent makes at most half the LLM calls and
sends at most half the prompt tokens of the original demo's design rebuilt on LlamaIndex (both
variants), against the same scripted server, client and tokenizer, on the bench's data (the original
demo's 500 customers): our script is one tool call, which ends the run only if the segment is not
empty (an empty one is an error the model must react to), so the data matters."""

from __future__ import annotations

from bench.llm_calls import run_scenarios
from bench.llm_scenarios import SCENARIOS
from tests.conftest import SEED_CRM, SEED_EVENTS, loaded_database
from tests.fakes.llm_server import FakeLLMServer


def test_ours_makes_half_the_llm_calls_and_prompt_tokens_of_the_original_design(pg_server_url, tmp_path):
    red_socks = next(s for s in SCENARIOS if "red socks" in s.question)
    with (
        loaded_database(pg_server_url, tmp_path / "stores", SEED_CRM, SEED_EVENTS) as settings,
        FakeLLMServer() as server,
    ):
        [row] = run_scenarios(settings, [red_socks], server)
    ours = row.sides.pop("ours")
    assert ours.calls == 1 and ours.usage_calls == 1  # one ReAct step: the tool's result is the answer
    assert set(row.sides) == {"query-engine tools", "hybrid tool"}
    for name, original in row.sides.items():
        assert 2 * ours.calls <= original.calls, name
        assert 2 * ours.prompt <= original.prompt, f"{name}: ours {ours.prompt} vs {original.prompt} prompt tokens"
        assert original.by_kind["vector synthesis"] > 0
    assert ours.by_kind == {"ReAct step": ours.prompt} and ours.system == ours.first_system
