"""The embedded PostgreSQL is tuned for the gate when this process creates it."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from cdp.embedded_pg import IO_METHOD, shared_buffers_mb


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="a server of your own keeps its settings")
def test_a_new_embedded_server_caches_a_quarter_of_memory_up_to_512_mb(pg_server_url):
    engine = sa.create_engine(pg_server_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        pages = conn.execute(sa.text("SELECT setting::bigint FROM pg_settings WHERE name = 'shared_buffers'")).scalar()
    engine.dispose()
    assert pages * 8 // 1024 == shared_buffers_mb()
    assert 128 <= shared_buffers_mb() <= 512


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="a server of your own keeps its settings")
def test_a_new_embedded_server_reads_for_itself_instead_of_through_io_workers(pg_server_url):
    engine = sa.create_engine(pg_server_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        has = conn.execute(sa.text("SELECT setting FROM pg_settings WHERE name = 'io_method'")).scalar()
        workers = conn.execute(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'io worker'")
        ).scalar()
    engine.dispose()
    if has is None:
        pytest.skip("this PostgreSQL has no io_method (before 18)")
    assert has == IO_METHOD == "sync"
    assert workers == 0  # the server runs no I/O worker processes
