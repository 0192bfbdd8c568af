"""bench llm-calls in small: on one scripted question our agent makes fewer LLM calls than the
original demo's design rebuilt on LlamaIndex (both variants), against the same scripted server.
Small synthetic data (80 customers) keeps it quick; the calls do not depend on the data."""

from __future__ import annotations

from bench.llm_calls import run_scenarios
from bench.llm_scenarios import SCENARIOS
from tests.conftest import loaded_database
from tests.fakes.llm_server import FakeLLMServer


def test_ours_makes_fewer_llm_calls_than_the_original_design(pg_server_url, small_sample, tmp_path):
    red_socks = next(s for s in SCENARIOS if "red socks" in s.question)
    with (
        loaded_database(pg_server_url, tmp_path / "stores", small_sample.crm, small_sample.events) as settings,
        FakeLLMServer() as server,
    ):
        [row] = run_scenarios(settings, [red_socks], server)
    ours = row.sides.pop("ours")
    assert ours.calls == 2 and ours.usage_calls == 2
    assert row.sides and all(ours.calls < original.calls for original in row.sides.values())
    assert all(original.by_kind["vector synthesis"] > 0 for original in row.sides.values())
