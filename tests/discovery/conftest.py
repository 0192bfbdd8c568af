"""Module-scoped loaded stores for read-only discovery tests (ingest once, ask many)."""

from __future__ import annotations

import pytest

from ingest.sample import generate
from tests.conftest import SAMPLE_END, SEED_CRM, SEED_EVENTS, loaded_database


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
