"""The read-only login model-written SQL runs as (sql_analytics, sql_where): its own pool,
its own credentials, a role that cannot write, cannot become anyone else and cannot see a
personal column.

The role (cdp.schema.READER_ROLE) is NOSUPERUSER, NOINHERIT, member of no role, with
default_transaction_read_only, statement_timeout and idle_in_transaction_session_timeout
set on it, and privileges on nothing but the views of cdp.schema.READER_SCHEMA (no
e-mail, no names). Its credentials:

- READONLY_DATABASE_URL, when set: a login an administrator provisioned (checked: it must
  not be a superuser and must start read-only);
- otherwise the main user provisions the role (it needs CREATEROLE or superuser, as the
  embedded server's user has) with a password generated once and kept in
  DATA_DIR/readonly_password (mode 0600), and logs in with the main URL's host and database.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cdp.db import READER_ROLE, cached_engine, engine_for, get_engine, normalize_url, settings_of
from cdp.errors import DatabaseUnavailable
from cdp.schema import READER_SCHEMA
from cdp.settings import Settings

log = logging.getLogger(__name__)

PASSWORD_FILE = "readonly_password"
IDLE_IN_TRANSACTION_MS = 30_000
POOL_SIZE = 5


_readers: dict[Engine, Settings] = {}


def model_pool(engine: Engine) -> tuple[Engine, Settings]:
    """The pool model-written SQL runs on, given `engine`: itself when it is a reader_engine,
    the read-only role's pool when it came from cdp.db.get_engine. Anything else is refused:
    no path runs model-written SQL as the main user."""
    if engine in _readers:
        return engine, _readers[engine]
    settings = settings_of(engine)
    if settings is None:
        raise ValueError("model-written SQL runs as the read-only role: pass an engine of get_engine or reader_engine")
    reader = reader_engine(settings)
    return reader, settings


def reader_engine(settings: Settings) -> Engine:
    """The pool that logs in as the read-only role (provisioned on first use when it can be)."""
    if settings.readonly_database_url is not None:
        url = normalize_url(settings.readonly_database_url.get_secret_value())
        engine = engine_for(url, pool_size=POOL_SIZE, options=session_options(settings))
        _check_is_read_only(engine)
        _readers[engine] = settings
        return engine
    owner = get_engine(settings)
    password = stored_password(settings.data_dir)
    url = owner.url.set(username=READER_ROLE, password=password).render_as_string(hide_password=False)
    found = cached_engine(url)
    if found is not None:
        return found
    with owner.begin() as conn:
        provision(conn, password, settings)
    engine = engine_for(url, pool_size=POOL_SIZE, options=session_options(settings))
    _readers[engine] = settings
    return engine


def role_settings(settings: Settings) -> dict[str, str]:
    """What every session of the role starts with: set on the role, and again by each of the
    pool's connections (the role could change its own defaults, ALTER ROLE ... SET being
    open to any role for itself, should anything ever lift read-only)."""
    return {
        "default_transaction_read_only": "on",
        "statement_timeout": str(int(settings.sql_statement_timeout_ms)),
        "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
        "search_path": f"{READER_SCHEMA},public",  # its views first: they shadow the live tables
    }


def session_options(settings: Settings) -> str:
    return " ".join(f"-c {name}={value}" for name, value in role_settings(settings).items())


def stored_password(data_dir: Path) -> str:
    """The role's password: generated once, kept in DATA_DIR/readonly_password (0600)."""
    path = data_dir / PASSWORD_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if password := path.read_text(encoding="utf-8").strip():
            return password
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # left empty by a crash: write one now
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        password = secrets.token_urlsafe(24)
        out.write(password + "\n")
    return password


def provision(conn: Connection, password: str, settings: Settings) -> None:
    """Make READER_ROLE a read-only login with `password` (idempotent; the role and its
    views come from cdp.schema.ensure_schema)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('audience.ensure_schema'))"))
    can = conn.execute(sa.text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar()
    if not can:
        raise DatabaseUnavailable(
            "Questions that run SQL need a read-only login, and the DATABASE_URL user cannot create one "
            "(it lacks CREATEROLE). Set READONLY_DATABASE_URL to a login that can only read; see the README."
        )
    if not conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER_ROLE}).first():
        conn.execute(sa.text(f"CREATE ROLE {READER_ROLE}"))
    conn.execute(
        sa.text(
            f"ALTER ROLE {READER_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION "
            "NOBYPASSRLS CONNECTION LIMIT 50"
        )
    )
    # the password is set in a statement of its own, never logged (the server logs no statements)
    statement = conn.execute(
        sa.text("SELECT format('ALTER ROLE %I PASSWORD %L', :r, :p)"), {"r": READER_ROLE, "p": password}
    )
    conn.execute(sa.text(str(statement.scalar())))
    for name, value in role_settings(settings).items():
        conn.execute(sa.text(f"ALTER ROLE {READER_ROLE} SET {name} = {value}"))
    # no role it could switch to (SET ROLE needs membership)
    for (granted,) in conn.execute(
        sa.text(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :r"
        ),
        {"r": READER_ROLE},
    ).all():
        conn.execute(sa.text(f'REVOKE "{granted}" FROM {READER_ROLE}'))
    # nowhere to create anything, not even temporary tables, should read-only be lifted
    database = conn.execute(sa.text("SELECT current_database()")).scalar()
    conn.execute(sa.text(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC'))
    conn.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))


def _check_is_read_only(engine: Engine) -> None:
    with engine.connect() as conn:
        superuser, read_only = conn.execute(
            sa.text(
                "SELECT rolsuper, current_setting('default_transaction_read_only') FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
    if superuser or read_only != "on":
        raise DatabaseUnavailable(
            "READONLY_DATABASE_URL must log in as a role that is not a superuser and has "
            "default_transaction_read_only on; see the README for how to create one."
        )
