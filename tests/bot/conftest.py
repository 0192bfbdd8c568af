"""Fixtures for the bot's tests: a fake Slack, a database loaded once per module, a scripted LLM."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cdp.settings import Settings
from tests.bot.harness import loaded_database
from tests.fakes.llm_server import FakeLLMServer
from tests.fakes.slack import FakeSlackServer


@pytest.fixture
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer() as fake:
        yield fake
        assert fake.server_errors == []


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def loaded(pg_server_url, tmp_path_factory, small_sample) -> Iterator[Settings]:
    """small_sample (80 customers) ingested once for the module."""
    with loaded_database(pg_server_url, tmp_path_factory.mktemp("botdata"), small_sample.crm, small_sample.events) as s:
        yield s
