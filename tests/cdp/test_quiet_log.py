"""Issue 12: the embedded server's log (DATA_DIR/postgres/log) holds no statement text and no
failing value: errors quote values (`invalid value "anna@example.com"`) and statements hold
literals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from cdp.embedded_pg import QUIET_LOG

FAILING = [
    "SELECT to_date('anna@example.com', 'Month')",
    "SELECT CAST('anna@example.com' AS integer)",
    "SELECT 'anna@example.com' FROM no_such_table",
    "SELECT 'anna@example.com' +",
]


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="a server of your own keeps its log settings")
def test_the_embedded_server_logs_no_statement_or_failing_value(pg_server_url):
    engine = sa.create_engine(pg_server_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        log = Path(conn.execute(sa.text("SHOW data_directory")).scalar()) / "log"
        shown = {name: conn.execute(sa.text(f"SHOW {name}")).scalar() for name in QUIET_LOG}
    for sql in FAILING:
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
            conn.exec_driver_sql(sql)
    engine.dispose()
    assert shown["log_min_error_statement"] == "panic" and shown["log_error_verbosity"] == "terse"
    assert shown["log_min_messages"] == "fatal" and shown["log_statement"] == "none"
    text = log.read_text(errors="replace")
    assert "anna@example.com" not in text
    assert "STATEMENT:" not in text.split("database system is ready")[-1]
