"""Module-scoped loaded stores for read-only discovery tests (ingest once, ask many)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from cdp.db import dispose_engines
from cdp.settings import Settings
from cdp.vectors import close_qdrant
from ingest import run
from ingest.sample import generate
from tests.conftest import SAMPLE_END, SEED_CRM, SEED_EVENTS


def _loaded(pg_server_url, tmp_path_factory, crm, events):
    """A fresh database + stores with `crm`/`events` ingested; dropped afterwards."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=url, data_dir=tmp_path_factory.mktemp("stores"), openrouter_api_key=None)
    try:
        run(settings, crm, events)
        yield settings
    finally:
        close_qdrant()
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def seed_settings(pg_server_url, tmp_path_factory):
    """The original demo's data, ingested once per module."""
    yield from _loaded(pg_server_url, tmp_path_factory, SEED_CRM, SEED_EVENTS)


@pytest.fixture(scope="module")
def sample_settings(pg_server_url, tmp_path_factory):
    """600 synthetic customers (personas, recent timestamps), ingested once per module."""
    files = generate(tmp_path_factory.mktemp("sample600"), 600, 10, seed=11, end=SAMPLE_END)
    yield from _loaded(pg_server_url, tmp_path_factory, files.crm, files.events)
