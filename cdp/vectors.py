"""Qdrant: a server when QDRANT_URL is set, local mode in DATA_DIR otherwise.

Local mode is a single-process store (a file lock on the folder); a second process gets
VectorStoreBusy with what to do instead of a stack trace. One client per process.
Collections are named per embedding model and snapshot slot (`…__a` / `…__b`) and reached
through an alias (`settings.qdrant_collection`): ingestion fills the slot the alias does not
point to and switches the alias when PostgreSQL swaps its tables, so readers never see a
half-written snapshot, and a model change builds a new collection the same way.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from qdrant_client import QdrantClient, models

from cdp.errors import VectorStoreBusy
from cdp.settings import Settings

log = logging.getLogger(__name__)

_clients: dict[str, QdrantClient] = {}
_lock = threading.Lock()


def get_qdrant(settings: Settings) -> QdrantClient:
    key = f"url:{settings.qdrant_url}" if settings.qdrant_url else f"path:{settings.qdrant_dir}"
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _open(settings)
            _clients[key] = client
        return client


def _open(settings: Settings) -> QdrantClient:
    if settings.qdrant_url:
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantClient(url=settings.qdrant_url, api_key=api_key, timeout=30)
    settings.qdrant_dir.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(settings.qdrant_dir))
    except RuntimeError as exc:
        if "already accessed" not in str(exc):
            raise
        raise VectorStoreBusy(
            f"The embedded vector store in {settings.qdrant_dir} is in use by another process "
            "(Qdrant local mode allows one process at a time; the bot holds it while it runs). "
            "Stop that process first, trigger ingestion from Slack with `/audience ingest`, "
            "or run a Qdrant server (docker compose up -d) and set QDRANT_URL."
        ) from exc


def close_qdrant() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def collection_for_model(base: str, model: str) -> str:
    """The physical collection holding `model`'s vectors; the alias `base` points to it."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    return f"{base}__{slug}"


SLOTS = ("a", "b")


def slot_collections(base: str, model: str) -> tuple[str, ...]:
    """The two collections that take turns holding `model`'s live and next snapshot."""
    return tuple(f"{collection_for_model(base, model)}__{s}" for s in SLOTS)


def next_collection(live: str | None, base: str, model: str) -> str:
    """The slot the next snapshot is written to: the one the alias does not point to."""
    first, second = slot_collections(base, model)
    return second if live == first else first


def alias_target(client: QdrantClient, alias: str) -> str | None:
    for item in client.get_aliases().aliases:
        if item.alias_name == alias:
            return item.collection_name
    return None


def ensure_collection(client: QdrantClient, name: str, dim: int) -> bool:
    """Create `name` (cosine) if missing; True when it was created."""
    if client.collection_exists(name):
        return False
    client.create_collection(name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE))
    return True


def switch_alias(client: QdrantClient, alias: str, collection: str) -> str | None:
    """Point `alias` at `collection` in one operation; return the previous target."""
    previous = alias_target(client, alias)
    if previous == collection:
        return previous
    ops: list = []
    if previous is not None:
        ops.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
    ops.append(
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=collection, alias_name=alias))
    )
    client.update_collection_aliases(change_aliases_operations=ops)
    log.info("alias %s -> %s (was %s)", alias, collection, previous)
    return previous


@contextmanager
def unsynced_writes(client: QdrantClient, collection: str) -> Iterator[None]:
    """Local mode writes each point in its own SQLite commit, each waiting for the disk (~2-20 ms:
    minutes for a snapshot) and creating and deleting a rollback journal. While an unpublished
    collection is filled, commit without waiting and append to a write-ahead log instead (safe if
    the process is killed; only a power loss could lose those writes; 5,000 points of the product's
    payload in 0.86-0.96 s of CPU against 1.22-1.65 s with a journal per commit), then fold the log
    into the file and make it durable once, before the collection can be published. A no-op for a
    Qdrant server."""
    conn = _local_sqlite(client, collection)
    if conn is None:
        yield
        return
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    try:
        yield
    except BaseException:  # not published: the next run fills it and syncs; keep the error that stopped it
        with suppress(sqlite3.Error):
            _one_file(conn)
        raise
    _one_file(conn)
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    if path:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _one_file(conn: sqlite3.Connection) -> None:
    """Back to one self-contained file (the log folded in) and a commit that waits for the disk."""
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = FULL")


def _local_sqlite(client: QdrantClient, collection: str) -> sqlite3.Connection | None:
    """The SQLite connection of a local-mode collection (qdrant-client internals), or None."""
    local = getattr(client, "_client", None)
    storage = getattr(getattr(local, "collections", {}).get(collection), "storage", None)
    conn = getattr(storage, "storage", None)
    return conn if isinstance(conn, sqlite3.Connection) else None
