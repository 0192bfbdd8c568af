"""The live collection's vectors as one NumPy matrix, for ranking a gate exactly in Qdrant local mode.

Qdrant local mode (the embedded default) is pure Python: fetching 10,000 vectors by id costs
~400 ms there, and filters are evaluated point by point. With the matrix, ranking any gate is a
row selection and one matrix product (milliseconds). It is built once per data snapshot (the
run id of the live data and the collection the alias points to) on first use, and only for
collections up to VECTOR_MATRIX_MAX_POINTS (384 floats = 1.5 KB a point: 30 MB at 20,000).
A Qdrant server restricts by point id natively, so there the engine asks the server instead.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from qdrant_client import QdrantClient

log = logging.getLogger(__name__)

SCROLL_PAGE = 5_000


@dataclass(frozen=True)
class VectorMatrix:
    ids: np.ndarray  # int64, sorted
    vectors: np.ndarray  # float32 [n, dim], rows as Qdrant stores them (normalized for cosine)

    def scores(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        """Cosine similarity of `query` (normalized) to each of `ids` that has a vector."""
        wanted = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, wanted)
        pos = np.clip(pos, 0, max(len(self.ids) - 1, 0))
        found = self.ids[pos] == wanted if len(self.ids) else np.zeros(len(wanted), dtype=bool)
        rows = pos[found]
        sims = self.vectors[rows] @ query.astype(np.float32)
        return dict(zip(wanted[found].tolist(), sims.tolist(), strict=True))

    def rows(self, ids) -> np.ndarray:
        """Row positions of those of `ids` that have a vector (unknown ids are left out)."""
        wanted = np.asarray(ids, dtype=np.int64)
        if not len(self.ids) or not len(wanted):
            return np.zeros(0, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, wanted), 0, len(self.ids) - 1)
        return pos[self.ids[pos] == wanted]

    def top(self, query: np.ndarray, k: int) -> dict[int, float]:
        """The k points closest to `query` (cosine), with their similarity."""
        sims = self.vectors @ query.astype(np.float32)
        k = min(k, len(sims))
        if k <= 0:
            return {}
        rows = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        return dict(zip(self.ids[rows].tolist(), sims[rows].tolist(), strict=True))

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.vectors.nbytes


_cache: dict[str, tuple[tuple, VectorMatrix]] = {}  # per store: (snapshot key, matrix) — the latest only
_lock = threading.Lock()


def matrix_for(
    client: QdrantClient, store: str, collection: str, snapshot: tuple, max_points: int
) -> VectorMatrix | None:
    """The matrix of `collection` for `snapshot`, built on first use; None when it has more than
    `max_points` points (the caller falls back to Qdrant)."""
    key = (collection, *snapshot)
    with _lock:  # one build at a time; concurrent questions wait for it instead of building twice
        cached = _cache.get(store)
        if cached and cached[0] == key:
            return cached[1]
        count = client.count(collection, exact=True).count
        if count > max_points:
            return None
        t0 = time.perf_counter()
        matrix = _build(client, collection)
        _cache[store] = (key, matrix)
    log.info(
        "vector matrix of %s built: %d points, %.0f MB, %.2f s",
        collection, len(matrix.ids), matrix.nbytes / 1e6, time.perf_counter() - t0,
    )  # fmt: skip
    return matrix


def _build(client: QdrantClient, collection: str) -> VectorMatrix:
    ids: list[int] = []
    chunks: list[np.ndarray] = []
    offset = None
    while True:
        points, offset = client.scroll(
            collection, limit=SCROLL_PAGE, offset=offset, with_vectors=True, with_payload=False
        )
        if points:
            ids.extend(int(p.id) for p in points)
            chunks.append(np.asarray([p.vector for p in points], dtype=np.float32))
        if offset is None:
            break
    id_arr = np.asarray(ids, dtype=np.int64)
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
    order = np.argsort(id_arr)
    return VectorMatrix(id_arr[order], vectors[order])
