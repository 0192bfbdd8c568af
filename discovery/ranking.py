"""Ranking customers by similarity to an intent's vector, over the live snapshot's vectors.

Qdrant local mode ranks from the in-memory matrix of the live vectors (discovery.vector_matrix);
otherwise gates up to EXACT_RANK_MAX are ranked exactly from vectors fetched by id, and larger ones
by asking Qdrant for the top matches restricted to the gate's point ids (HasIdCondition). The
collection is the live snapshot's, as PostgreSQL's swap recorded it (Catalogue.collection).
"""

from __future__ import annotations

import numpy as np
from qdrant_client import QdrantClient, models

from cdp.settings import Settings
from discovery.catalogue import Catalogue
from discovery.vector_matrix import matrix_for

EXACT_RANK_MAX = 50_000
_FETCH_CHUNK = 2_000
# Without the in-memory matrix, the natural break of an intent's scores (discovery.refine) is taken
# from this many profiles' vectors (the distribution of the population, not every score).
POPULATION_SAMPLE = 5_000


class VectorRanking:
    def __init__(self, settings: Settings, qdrant: QdrantClient, catalogue: Catalogue, collection: str):
        self.settings, self.qdrant, self.catalogue, self.collection = settings, qdrant, catalogue, collection

    def matrix(self):
        """Qdrant local mode only: the live collection's vectors in memory (see vector_matrix)."""
        if self.settings.qdrant_url or not self.settings.vector_matrix_max_points:
            return None
        return matrix_for(
            self.qdrant, str(self.settings.qdrant_dir), self.collection, (self.catalogue.run_id,),
            self.settings.vector_matrix_max_points,
        )  # fmt: skip

    def top(self, qv: np.ndarray, k: int) -> dict[int, float]:
        """The k profiles closest to `qv` over every customer."""
        if (matrix := self.matrix()) is not None:
            return matrix.top(qv, k)
        res = self.qdrant.query_points(self.collection, query=qv.tolist(), limit=k)
        return {int(p.id): float(p.score) for p in res.points}

    def rank(self, ids: list[int], qv: np.ndarray, top: int) -> tuple[list[int], dict[int, float]]:
        """Rank exactly the gate's customers by cosine similarity to the intent's vector `qv`."""
        scores: dict[int, float] = {}
        if (matrix := self.matrix()) is not None:
            scores = matrix.scores(ids, qv)
        elif len(ids) <= EXACT_RANK_MAX:
            for i in range(0, len(ids), _FETCH_CHUNK):
                chunk = ids[i : i + _FETCH_CHUNK]
                points = self.qdrant.retrieve(self.collection, chunk, with_vectors=True, with_payload=False)
                if not points:
                    continue
                mat = np.asarray([p.vector for p in points], dtype=np.float32)
                for p, s in zip(points, mat @ qv, strict=True):
                    scores[int(p.id)] = float(s)
        else:
            point_ids: list[models.ExtendedPointId] = list(ids)
            res = self.qdrant.query_points(
                self.collection,
                query=qv.tolist(),
                query_filter=models.Filter(must=[models.HasIdCondition(has_id=point_ids)]),
                limit=max(top * 5, 100),
            )
            scores = {int(p.id): float(p.score) for p in res.points}
        return by_score(scores), scores

    def population_scores(self, qv: np.ndarray) -> dict[int, float]:
        """Every customer's similarity to `qv` (the in-memory matrix), or POPULATION_SAMPLE of them."""
        if (matrix := self.matrix()) is not None:
            sims = matrix.vectors @ qv.astype(np.float32)
            return dict(zip(matrix.ids.tolist(), sims.tolist(), strict=True))
        points, _ = self.qdrant.scroll(self.collection, limit=POPULATION_SAMPLE, with_vectors=True, with_payload=False)
        if not points:
            return {}
        mat = np.asarray([p.vector for p in points], dtype=np.float32)
        return dict(zip((int(p.id) for p in points), (mat @ qv).tolist(), strict=True))


def by_score(scores: dict[int, float]) -> list[int]:
    """Ids by descending similarity, ties by id (a stable order for equal profiles)."""
    return sorted(scores, key=lambda k: (-scores[k], k))
