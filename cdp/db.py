"""PostgreSQL: pooled engines (DATABASE_URL or the embedded server in DATA_DIR) and the
read-only transaction every query that answers a question runs in.

Model-written SQL runs on its own pool that logs in as the read-only role (cdp.reader);
the engine's own typed statements run read-only on the main pool."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cdp.errors import DatabaseUnavailable
from cdp.settings import Settings

log = logging.getLogger(__name__)

READER_ROLE = "audience_reader"

_engines: dict[str, Engine] = {}
_settings: dict[Engine, Settings] = {}  # the settings each get_engine engine was made from
_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """SQLAlchemy 2.1 maps postgresql:// to psycopg 3; this product uses psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return normalize_url(settings.database_url.get_secret_value())
    from cdp.embedded_pg import embedded_url

    return normalize_url(embedded_url(settings.pg_dir))


def get_engine(settings: Settings) -> Engine:
    """One pooled engine per database URL for the process."""
    engine = engine_for(database_url(settings), pool_size=10)
    with _lock:
        _settings[engine] = settings
    return engine


def settings_of(engine: Engine) -> Settings | None:
    """The settings get_engine made `engine` from (None for any other engine)."""
    with _lock:
        return _settings.get(engine)


def engine_for(url: str, *, pool_size: int, options: str | None = None) -> Engine:
    """The process's pooled engine for `url` (created and tried on first use); `options` are
    settings every connection starts with (libpq's options: they win over the role's defaults)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            connect_args = {"options": options} if options else {}
            engine = sa.create_engine(
                url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, connect_args=connect_args
            )
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            except sa.exc.OperationalError as exc:
                engine.dispose()
                raise DatabaseUnavailable(
                    f"Cannot connect to PostgreSQL ({sa.engine.make_url(url).render_as_string()}): "
                    f"{exc.orig}. Check DATABASE_URL, or unset it to use the embedded database."
                ) from exc
            _engines[url] = engine
        return engine


def cached_engine(url: str) -> Engine | None:
    """The engine engine_for made for `url` in this process, if any."""
    with _lock:
        return _engines.get(url)


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _settings.clear()


@contextmanager
def read_only(
    engine: Engine, *, timeout_ms: int, work_mem_mb: int | None = None, planner: Mapping[str, str] | None = None
) -> Iterator[Connection]:
    """A READ ONLY transaction with a statement timeout (and, for the engine's own compiled
    statements, more memory per sort or hash than the server default, and the planner settings
    a compiled statement asks for: numeric cost settings only), as whoever `engine` logs in as:
    the read-only role for model-written SQL (cdp.reader.reader_engine).

    Always rolled back: nothing done inside can persist.
    """
    for name, value in (planner or {}).items():
        if not (_PLANNER_SETTING.fullmatch(name) and _NUMBER.fullmatch(value)):
            raise ValueError(f"not a planner cost setting: {name} = {value!r}")
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            conn.execute(sa.text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
            if work_mem_mb:
                conn.execute(sa.text(f"SET LOCAL work_mem = '{int(work_mem_mb)}MB'"))
            for name, value in (planner or {}).items():
                conn.execute(sa.text(f"SET LOCAL {name} = {value}"))
            yield conn
        finally:
            trans.rollback()


_PLANNER_SETTING = re.compile(r"(parallel|cpu|seq_page|random_page)_[a-z_]*cost")
_NUMBER = re.compile(r"\d+(\.\d+)?")


def fetch_all(conn: Connection, sql: str | sa.TextClause, params: Mapping[str, Any] | None = None) -> list[dict]:
    stmt = sa.text(sql) if isinstance(sql, str) else sql
    return [dict(row._mapping) for row in conn.execute(stmt, dict(params or {}))]
