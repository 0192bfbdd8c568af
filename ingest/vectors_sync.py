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
instead of starting over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import sqlalchemy as sa
from qdrant_client import QdrantClient, models
from sqlalchemy.engine import Engine

from cdp.embedder import Embedder
from cdp.vectors import alias_target, ensure_collection, next_collection, switch_alias, unsynced_writes
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

STATE_UPSERT = """
INSERT INTO embedding_state (collection, customer_id, text_hash, payload_hash)
VALUES (:collection, :customer_id, :text_hash, :payload_hash)
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


@dataclass
class _Target:
    engine: Engine
    client: QdrantClient
    embedder: Embedder
    live: str | None
    collection: str


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
    """Fill the next slot with the new snapshot; the live collection is only read."""
    live = alias_target(client, base)
    collection = next_collection(live, base, model)
    ensure_collection(client, collection, embedder.dim)
    target = _Target(engine, client, embedder, live, collection)
    out = EmbedOutcome(collection=collection, pruned=_prune(engine, client, collection))
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM customer_profiles_new")).scalar()
    bar = progress.bar("embed profiles", unit="profiles")
    pending: list[list[dict]] = []  # groups of rows sharing one text
    params = {"model": model, "next": collection, "live": live or ""}
    stream = engine.connect().execution_options(stream_results=True, max_row_buffer=5000)
    with unsynced_writes(client, collection), stream as conn:
        rows = conn.execute(sa.text(DIFF_SQL), params).mappings()
        for _, group in groupby(rows, key=lambda r: r["text_hash"]):
            pending.append([dict(r) for r in group])
            if len(pending) >= batch_texts:
                _flush(target, pending, out, bar)
                pending = []
                if on_batch is not None:
                    on_batch()
        if pending:
            _flush(target, pending, out, bar)
            if on_batch is not None:
                on_batch()
    bar.close()
    out.skipped = total - out.computed - out.payloads_updated
    return out


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


def _flush(t: _Target, groups: list[list[dict]], out: EmbedOutcome, bar) -> None:
    payload_ops, need_vector = [], []
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
        out.payloads_updated += sum(
            r["live_text_hash"] == r["text_hash"] and r["live_payload_hash"] != r["payload_hash"] for r in group
        )
    donors = {
        i: next(int(r["customer_id"]) for r in group if r["live_text_hash"] == r["text_hash"])
        for i, (group, _) in enumerate(need_vector)
        if t.live and any(r["live_text_hash"] == r["text_hash"] for r in group)
    }
    copied = _live_vectors(t, list(donors.values()))
    to_embed = [i for i in range(len(need_vector)) if copied.get(donors.get(i, -1)) is None]
    embedded = t.embedder.embed([need_vector[i][0][0]["profile_text"] for i in to_embed]) if to_embed else []
    vectors = {i: copied[donors[i]] for i in range(len(need_vector)) if i not in to_embed}
    vectors.update({i: v.tolist() for i, v in zip(to_embed, embedded, strict=True)})
    points = [
        models.PointStruct(id=int(r["customer_id"]), vector=vectors[i], payload=_payload(r))
        for i, (_, fresh) in enumerate(need_vector)
        for r in fresh
    ]
    if points:
        t.client.upsert(t.collection, points=points, wait=True)
    if payload_ops:
        t.client.batch_update_points(t.collection, update_operations=payload_ops, wait=True)
    # Only now, after Qdrant accepted the batch, record the hashes.
    state = [
        {"collection": t.collection, "customer_id": r["customer_id"], "text_hash": r["text_hash"],
         "payload_hash": r["payload_hash"]}
        for g in groups for r in g
    ]  # fmt: skip
    with t.engine.begin() as conn:
        conn.execute(sa.text(STATE_UPSERT), state)
    embedded_ids = {int(r["customer_id"]) for i in to_embed for r in need_vector[i][1]}
    out.computed += len(embedded_ids)
    out.copied += len(points) - len(embedded_ids)
    out.texts_embedded += len(to_embed)
    bar.update(len(state))


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
