"""Module-scoped loaded stores for read-only discovery tests (ingest once, ask many)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from ingest.sample import generate
from tests.conftest import SAMPLE_END, SEED_CRM, SEED_EVENTS, loaded_database
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture(scope="module")
def seed_settings(pg_server_url, tmp_path_factory):
    """The original demo's data, ingested once per module."""
    with loaded_database(pg_server_url, tmp_path_factory.mktemp("stores"), SEED_CRM, SEED_EVENTS) as settings:
        yield settings


@pytest.fixture(scope="module")
def sample_settings(pg_server_url, tmp_path_factory):
    """600 synthetic customers (personas, recent timestamps), ingested once per module."""
    files = generate(tmp_path_factory.mktemp("sample600"), 600, 10, seed=11, end=SAMPLE_END)
    with loaded_database(pg_server_url, tmp_path_factory.mktemp("stores"), files.crm, files.events) as settings:
        yield settings


@pytest.fixture
def llm():
    """The scripted LLM server, one per test."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def agent_settings(seed_settings, llm):
    """The seed data with an LLM key, pointed at the scripted server, retries off."""
    return seed_settings.model_copy(
        update={
            "openrouter_api_key": SecretStr("test-key"),
            "llm_api_base": llm.base_url,
            "llm_max_retries": 0,
            "llm_timeout_s": 20,
        }
    )
