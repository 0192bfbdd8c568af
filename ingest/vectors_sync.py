"""Stage 3: embedding into the next snapshot's collection, published with the swap.

The live collection (the alias's target) is never written. Each run fills the other slot
(cdp.vectors.next_collection) for the customers of `customer_profiles_new`: a vector
whose text is unchanged is copied from the live collection, a new text is embedded (once
per distinct text), and points of customers not in the new snapshot are removed from the
slot. The alias is switched in the transaction that swaps the PostgreSQL tables
(`publish`), so a crash at any stage leaves both stores on the previous snapshot.

The hash of (model, profile text) per customer and collection lives in `embedding_state`,
written only after Qdrant accepted the batch (and deleted before a point is), so the state
is never ahead of the store: a run killed half-way leaves a slot the next run finishes
instead of starting over. Those writes (Qdrant, then the hashes) run on one writer thread while the
next batch is read and encoded (ingest.batch_writer), one batch in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby, islice

import sqlalchemy as sa
from qdrant_client import QdrantClient, models
from sqlalchemy.engine import Engine

from cdp.embedder import Embedder
from cdp.vectors import alias_target, ensure_collection, next_collection, switch_alias, unsynced_writes
from ingest.batch_writer import BatchWriter, Clock
from ingest.profile_text import payload
from ingest.progress import Progress

log = logging.getLogger(__name__)

_PAYLOAD_JSON = """jsonb_build_object('first_name', c.first_name, 'last_name', c.last_name, 'email', c.email,
        'country', c.country, 'age', c.age, 'total_spent', c.total_spent, 'favorite_color', c.favorite_color,
        'interests', p.interests, 'likes_luxury', p.likes_luxury, 'text', p.profile_text)::text"""

DIFF_SQL = f"""
SELECT customer_id, profile_text, interests, likes_luxury, first_name, last_name, email, country, age,
       total_spent, favorite_color, text_hash, payload_hash, next_text_hash, live_text_hash, live_payload_hash
FROM (
    SELECT p.customer_id, p.profile_text, p.interests, p.likes_luxury,
           c.first_name, c.last_name, c.email, c.country, c.age, c.total_spent, c.favorite_color,
           md5(:model || E'\\n' || p.profile_text) AS text_hash,
           md5({_PAYLOAD_JSON}) AS payload_hash,
           s.text_hash AS next_text_hash, s.payload_hash AS next_payload_hash,
           l.text_hash AS live_text_hash, l.payload_hash AS live_payload_hash
    FROM customer_profiles_new p
    JOIN customers_new c USING (customer_id)
    LEFT JOIN embedding_state s ON s.collection = :next AND s.customer_id = p.customer_id
    LEFT JOIN embedding_state l ON l.collection = :live AND l.customer_id = p.customer_id
) d
WHERE next_text_hash IS DISTINCT FROM text_hash OR next_payload_hash IS DISTINCT FROM payload_hash
ORDER BY text_hash
"""

# One statement per batch (psycopg2 would send an executemany row by row): the batch's hashes as arrays.
STATE_UPSERT = """
INSERT INTO embedding_state (collection, customer_id, text_hash, payload_hash)
SELECT :collection, u.customer_id, u.text_hash, u.payload_hash
FROM unnest(CAST(:customer_ids AS bigint[]), CAST(:text_hashes AS text[]), CAST(:payload_hashes AS text[]))
     AS u(customer_id, text_hash, payload_hash)
ON CONFLICT (collection, customer_id) DO UPDATE
SET text_hash = EXCLUDED.text_hash, payload_hash = EXCLUDED.payload_hash
"""


@dataclass
class EmbedOutcome:
    collection: str
    computed: int = 0  # customers whose vector was (re)computed
    skipped: int = 0  # customers whose vector and payload were already current
    payloads_updated: int = 0  # payload-only changes (relative to the live snapshot)
    texts_embedded: int = 0  # distinct texts sent to the model
    copied: int = 0  # vectors copied from the live collection instead of embedded
    pruned: int = 0  # points of customers not in the new snapshot removed from the slot
    seconds: dict[str, float] = field(default_factory=dict)  # where the stage's time went, per step


@dataclass
class _Target:
    engine: Engine
    client: QdrantClient
    embedder: Embedder
    live: str | None
    collection: str


@dataclass
class _Batch:
    """One batch, ready to write: the points, the payload-only updates, then the hashes to record."""

    points: list[models.PointStruct]
    payload_ops: list
    state: dict  # STATE_UPSERT's parameters: the batch's customers and their hashes
    computed: int  # customers whose vector was embedded
    texts: int  # distinct texts embedded
    payloads_updated: int


def sync_new_profiles(
    engine: Engine,
    client: QdrantClient,
    embedder: Embedder,
    *,
    base: str,
    model: str,
    progress: Progress,
    batch_texts: int = 512,
    on_batch: Callable[[], None] | None = None,
) -> EmbedOutcome:
    """Fill the next slot with the new snapshot; the live collection is only read. Batch k is written
    (Qdrant, then its hashes) on a background thread while batch k+1 is read and encoded; `on_batch`
    is called and the bar advanced once a batch is written."""
    live = alias_target(client, base)
    collection = next_collection(live, base, model)
    if ensure_collection(client, collection, embedder.dim):
        _forget(engine, collection)  # a slot created afresh holds no vector, whatever the state said
    target = _Target(engine, client, embedder, live, collection)
    out = EmbedOutcome(collection=collection, pruned=_prune(engine, client, collection))
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM customer_profiles_new")).scalar()
    bar = progress.bar("embed profiles", unit="profiles")
    clock = Clock()

    def written(batches: list[_Batch]) -> None:
        for b in batches:
            out.computed += b.computed
            out.copied += len(b.points) - b.computed
            out.texts_embedded += b.texts
            out.payloads_updated += b.payloads_updated
            bar.update(len(b.state["customer_ids"]))
            if on_batch is not None:
                on_batch()

    params = {"model": model, "next": collection, "live": live or ""}
    # The diff is streamed on this thread's own connection; the writer takes another from the pool.
    stream = engine.connect().execution_options(stream_results=True, max_row_buffer=5000)
    with (
        unsynced_writes(client, collection),
        BatchWriter[_Batch](lambda b: _write(target, b, clock), clock, "embed-writer") as writer,
        stream as conn,
    ):
        rows = conn.execute(sa.text(DIFF_SQL), params).mappings()
        for groups in _read_batches(rows, batch_texts, clock):
            writer.check()  # a failed write stops the run before more is encoded
            batch = _prepare(target, groups, clock)  # encoding while the previous batch is written
            written(writer.drain())
            writer.submit(batch)
        written(writer.drain())
    bar.close()
    out.skipped = total - out.computed - out.payloads_updated
    out.seconds = clock.rounded()
    log.debug("embed stage: %s", out.seconds, extra={"embed_seconds": out.seconds})
    return out


def _read_batches(rows, batch_texts: int, clock: Clock) -> Iterator[list[list[dict]]]:
    """The diff in batches of up to `batch_texts` groups of rows sharing one text (the rows are ordered
    by text hash)."""
    groups = groupby(rows, key=lambda r: r["text_hash"])
    while True:
        with clock.time("read diff"):
            batch = [[dict(r) for r in group] for _, group in islice(groups, batch_texts)]
        if not batch:
            return
        yield batch


def _forget(engine: Engine, collection: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM embedding_state WHERE collection = :c"), {"c": collection})


def _prune(engine: Engine, client: QdrantClient, collection: str) -> int:
    """Remove from the (unpublished) slot the points of customers not in the new snapshot —
    left by an earlier snapshot or a run that stopped half-way. State first, then points."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """DELETE FROM embedding_state s WHERE s.collection = :c
                   AND NOT EXISTS (SELECT 1 FROM customer_profiles_new p WHERE p.customer_id = s.customer_id)"""
            ),
            {"c": collection},
        )
        keep = {r[0] for r in conn.execute(sa.text("SELECT customer_id FROM customer_profiles_new"))}
    extra: list[int] = []
    offset = None
    while True:
        points, offset = client.scroll(collection, limit=10_000, offset=offset, with_payload=False, with_vectors=False)
        extra.extend(int(p.id) for p in points if int(p.id) not in keep)
        if offset is None:
            break
    for i in range(0, len(extra), 1000):
        client.delete(collection, points_selector=models.PointIdsList(points=extra[i : i + 1000]), wait=True)
    return len(extra)


def _prepare(t: _Target, groups: list[list[dict]], clock: Clock) -> _Batch:
    """The batch's points: a vector copied from the live collection when its text is unchanged there,
    else embedded (once per distinct text); payload-only updates where the slot has the vector."""
    payload_ops, need_vector = [], []
    payloads_updated = 0
    for group in groups:
        fresh = [r for r in group if r["next_text_hash"] != r["text_hash"]]
        for r in group:
            if r["next_text_hash"] == r["text_hash"]:  # the slot has the vector: payload only
                payload_ops.append(
                    models.OverwritePayloadOperation(
                        overwrite_payload=models.SetPayload(payload=_payload(r), points=[int(r["customer_id"])])
                    )
                )
        if fresh:
            need_vector.append((group, fresh))
        payloads_updated += sum(
            r["live_text_hash"] == r["text_hash"] and r["live_payload_hash"] != r["payload_hash"] for r in group
        )
    donors = {
        i: next(int(r["customer_id"]) for r in group if r["live_text_hash"] == r["text_hash"])
        for i, (group, _) in enumerate(need_vector)
        if t.live and any(r["live_text_hash"] == r["text_hash"] for r in group)
    }
    with clock.time("copy live vectors"):
        copied = _live_vectors(t, list(donors.values()))
    to_embed = [i for i in range(len(need_vector)) if copied.get(donors.get(i, -1)) is None]
    with clock.time("encode"):
        embedded = t.embedder.embed([need_vector[i][0][0]["profile_text"] for i in to_embed]) if to_embed else []
    vectors = {i: copied[donors[i]] for i in range(len(need_vector)) if i not in to_embed}
    vectors.update({i: v.tolist() for i, v in zip(to_embed, embedded, strict=True)})
    # Built from values typed here (int ids, lists of floats, JSON payloads): not validated again field by
    # field (pydantic's check of 384 floats per point took 0.43 s of the encoding thread per 5,000 points).
    points = [
        models.PointStruct.model_construct(id=int(r["customer_id"]), vector=vectors[i], payload=_payload(r))
        for i, (_, fresh) in enumerate(need_vector)
        for r in fresh
    ]
    rows = [r for g in groups for r in g]
    state = {
        "collection": t.collection,
        "customer_ids": [int(r["customer_id"]) for r in rows],
        "text_hashes": [r["text_hash"] for r in rows],
        "payload_hashes": [r["payload_hash"] for r in rows],
    }
    computed = sum(len(need_vector[i][1]) for i in to_embed)
    return _Batch(points, payload_ops, state, computed, len(to_embed), payloads_updated)


def _write(t: _Target, b: _Batch, clock: Clock) -> None:
    """On the writer thread: Qdrant first, then the hashes, so the state is never ahead of the store."""
    with clock.time("qdrant writes"):
        if b.points:
            t.client.upsert(t.collection, points=b.points, wait=True)
        if b.payload_ops:
            t.client.batch_update_points(t.collection, update_operations=b.payload_ops, wait=True)
    # Only now, after Qdrant accepted the batch, record the hashes.
    with clock.time("hash writes"), t.engine.begin() as conn:
        conn.execute(sa.text(STATE_UPSERT), b.state)


def _live_vectors(t: _Target, ids: list[int]) -> dict[int, list[float]]:
    if not ids or not t.live:
        return {}
    return {int(p.id): p.vector for p in t.client.retrieve(t.live, ids, with_vectors=True, with_payload=False)}


def _payload(r: dict) -> dict:
    return payload(r, r["profile_text"])


def publish(client: QdrantClient, *, base: str, collection: str) -> str | None:
    """Point the alias at the new snapshot's collection (called inside the PostgreSQL swap's
    transaction, just before it commits); return the previous target."""
    return switch_alias(client, base, collection)


def restore_alias(client: QdrantClient, base: str, live: str | None) -> bool:
    """Point the alias back at `live` (the last successful run's collection) when a run stopped
    between the alias switch and the commit; True when it had to."""
    if not live or alias_target(client, base) == live or not client.collection_exists(live):
        return False
    switch_alias(client, base, live)
    log.warning("the vector alias %s pointed past the live data; restored to %s", base, live)
    return True


def drop_previous(engine: Engine, client: QdrantClient, previous: str | None, collection: str) -> None:
    """After the swap: drop the previous snapshot's collection and its state."""
    if not previous or previous == collection:
        return
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM embedding_state WHERE collection = :c"), {"c": previous})
    if client.collection_exists(previous):
        client.delete_collection(previous)
    log.info("dropped the previous snapshot's collection %s", previous)
