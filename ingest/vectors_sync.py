"""Stage 3: incremental embedding into Qdrant.

The hash of (model, profile text) per customer lives in `embedding_state`, written only
after Qdrant accepted the batch, so a crash leaves the state behind the store, never
ahead: the next run re-embeds what was not recorded and converges. Identical profile
texts are embedded once. Payload-only changes (name, spend…) update the payload without
re-embedding. Points of vanished customers are deleted after the swap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import groupby

import sqlalchemy as sa
from qdrant_client import QdrantClient, models
from sqlalchemy.engine import Engine

from cdp.embedder import Embedder
from cdp.vectors import alias_target, collection_for_model, ensure_collection, switch_alias
from ingest.profile_text import payload
from ingest.progress import Progress

log = logging.getLogger(__name__)

_PAYLOAD_JSON = """jsonb_build_object('first_name', c.first_name, 'last_name', c.last_name, 'email', c.email,
        'country', c.country, 'age', c.age, 'total_spent', c.total_spent, 'favorite_color', c.favorite_color,
        'interests', p.interests, 'likes_luxury', p.likes_luxury, 'text', p.profile_text)::text"""

DIFF_SQL = f"""
SELECT p.customer_id, p.profile_text, p.interests, p.likes_luxury,
       c.first_name, c.last_name, c.email, c.country, c.age, c.total_spent, c.favorite_color,
       md5(:model || E'\\n' || p.profile_text) AS text_hash,
       md5({_PAYLOAD_JSON}) AS payload_hash,
       s.text_hash AS old_text_hash
FROM customer_profiles_new p
JOIN customers_new c USING (customer_id)
LEFT JOIN embedding_state s ON s.collection = :collection AND s.customer_id = p.customer_id
WHERE s.customer_id IS NULL
   OR s.text_hash <> md5(:model || E'\\n' || p.profile_text)
   OR s.payload_hash <> md5({_PAYLOAD_JSON})
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
    payloads_updated: int = 0  # payload-only changes
    texts_embedded: int = 0  # distinct texts sent to the model
    created_collection: bool = False


def target_collection(base: str, model: str) -> str:
    return collection_for_model(base, model)


def sync_new_profiles(
    engine: Engine,
    client: QdrantClient,
    embedder: Embedder,
    *,
    base: str,
    model: str,
    progress: Progress,
    batch_texts: int = 512,
) -> EmbedOutcome:
    collection = target_collection(base, model)
    out = EmbedOutcome(collection=collection, created_collection=ensure_collection(client, collection, embedder.dim))
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM customer_profiles_new")).scalar()
    bar = progress.bar("embed profiles", unit="profiles")
    pending: list[list[dict]] = []  # groups of rows sharing one text
    n_texts = 0
    with engine.connect().execution_options(stream_results=True, max_row_buffer=5000) as conn:
        rows = conn.execute(sa.text(DIFF_SQL), {"model": model, "collection": collection}).mappings()
        for _, group in groupby(rows, key=lambda r: r["text_hash"]):
            pending.append([dict(r) for r in group])
            n_texts += 1
            if n_texts >= batch_texts:
                _flush(engine, client, embedder, collection, pending, out, bar)
                pending, n_texts = [], 0
        if pending:
            _flush(engine, client, embedder, collection, pending, out, bar)
    bar.close()
    out.skipped = total - out.computed - out.payloads_updated
    return out


def _flush(engine, client, embedder, collection, groups, out: EmbedOutcome, bar) -> None:
    to_embed = [g for g in groups if any(r["old_text_hash"] != r["text_hash"] for r in g)]
    vectors = embedder.embed([g[0]["profile_text"] for g in to_embed]) if to_embed else []
    points, payload_ops = [], []
    for group, vector in zip(to_embed, vectors, strict=True):
        for r in group:
            if r["old_text_hash"] != r["text_hash"]:
                points.append(models.PointStruct(id=int(r["customer_id"]), vector=vector.tolist(), payload=_payload(r)))
    embedded_ids = {p.id for p in points}
    for group in groups:
        for r in group:
            if int(r["customer_id"]) not in embedded_ids:
                payload_ops.append(
                    models.OverwritePayloadOperation(
                        overwrite_payload=models.SetPayload(payload=_payload(r), points=[int(r["customer_id"])])
                    )
                )
    if points:
        client.upsert(collection, points=points, wait=True)
    if payload_ops:
        client.batch_update_points(collection, update_operations=payload_ops, wait=True)
    # Only now, after Qdrant accepted the batch, record the hashes.
    state = [
        {
            "collection": collection,
            "customer_id": r["customer_id"],
            "text_hash": r["text_hash"],
            "payload_hash": r["payload_hash"],
        }
        for g in groups
        for r in g
    ]
    with engine.begin() as conn:
        conn.execute(sa.text(STATE_UPSERT), state)
    out.computed += len(points)
    out.payloads_updated += len(payload_ops)
    out.texts_embedded += len(to_embed)
    bar.update(len(state))


def _payload(r: dict) -> dict:
    return payload(r, r["profile_text"])


def finish_after_swap(engine: Engine, client: QdrantClient, *, base: str, collection: str) -> int:
    """Delete points of customers no longer live, point the alias at `collection`, drop
    the previous model's collection. Returns the number of points deleted."""
    with engine.connect() as conn:
        gone = [
            r[0]
            for r in conn.execute(
                sa.text(
                    """SELECT s.customer_id FROM embedding_state s
                       WHERE s.collection = :c
                         AND NOT EXISTS (SELECT 1 FROM customers x WHERE x.customer_id = s.customer_id)"""
                ),
                {"c": collection},
            )
        ]
    for i in range(0, len(gone), 1000):
        ids = gone[i : i + 1000]
        client.delete(collection, points_selector=models.PointIdsList(points=ids), wait=True)
        with engine.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM embedding_state WHERE collection = :c AND customer_id = ANY(:ids)"),
                {"c": collection, "ids": ids},
            )
    previous = switch_alias(client, base, collection)
    if previous and previous != collection:
        client.delete_collection(previous)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM embedding_state WHERE collection = :c"), {"c": previous})
        log.info("dropped the previous model's collection %s", previous)
    return len(gone)


def active_collection(client: QdrantClient, base: str) -> str | None:
    return alias_target(client, base)
