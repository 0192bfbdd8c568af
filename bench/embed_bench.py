"""Embedding backends: texts/s and equality with torch.

python -m bench embed [--texts 2000] [--speed-texts 512]
    for torch, onnx, openvino and the opt-in onnx-int8: texts/s at batch sizes 32/64/128/256 (every core),
    one question's latency on one thread, and the cosine of each backend's vectors to torch's over
    generated profile texts (mean and min; the equality bar is mean >= 0.9999 and min >= 0.999)
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.stats import percentile
from cdp.embed_backends import BACKENDS
from cdp.embed_export import MIN_COSINE, MIN_MEAN_COSINE, cosine_check
from cdp.embedder import Embedder
from cdp.settings import Settings
from ingest.profile_text import profile_text
from ingest.sample import VOCAB_FILE

BATCH_SIZES = (32, 64, 128, 256)


def profile_texts(n: int, seed: int = 7) -> list[str]:
    """`n` profile texts as ingestion writes them, drawn from the sample generator's vocabulary."""
    vocab = json.loads(VOCAB_FILE.read_text())
    luxury = Settings(_env_file=None).luxury_threshold
    rng = np.random.default_rng(seed)
    personas = list(vocab["personas"].values())
    share = np.array([p["share"] for p in personas], dtype=float)
    countries = list(vocab["countries"])
    texts = []
    for _ in range(n):
        persona = personas[rng.choice(len(personas), p=share / share.sum())]
        products, colors = list(persona["products"]), list(persona["colors"])
        texts.append(
            profile_text(
                country=countries[rng.integers(len(countries))],
                age=int(rng.integers(16, 85)),
                favorite_color=colors[rng.integers(len(colors))],
                interests=list(rng.choice(products, size=rng.integers(0, len(products) + 1), replace=False)),
                preferred_colors=list(rng.choice(colors, size=rng.integers(0, min(3, len(colors)) + 1), replace=False)),
                likes_luxury=bool(persona["price"][1] >= luxury and rng.random() < 0.7),
            )
        )
    return texts


def _rate(embedder: Embedder, texts: list[str], batch_size: int) -> float:
    embedder.batch_size = batch_size
    t0 = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - t0)


def _one_ms(embedder: Embedder, texts: list[str]) -> float:
    times = []
    for text in texts:
        t0 = time.perf_counter()
        embedder.embed_one(text)
        times.append((time.perf_counter() - t0) * 1000)
    return percentile(times, 0.5)


def embed(n_texts: int = 2000, speed_texts: int = 512) -> str:
    model = Settings(_env_file=None).embedding_model
    texts = profile_texts(n_texts)
    speed = texts[:speed_texts]
    rows, cosine_rows, reference = [], [], None
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as cache:
        for backend in [b for b in BACKENDS if b != "auto"]:
            embedder = Embedder(model, 256, backend=backend, device="cpu", cache_dir=Path(cache))
            t0 = time.perf_counter()
            _ = embedder.dim
            load_s = time.perf_counter() - t0
            ran = embedder.backend
            embedder.embed(speed[:64])  # warm-up: sessions built, first passes paid
            rates = [_rate(embedder, speed, b) for b in BATCH_SIZES]
            embedder.batch_size = 128
            vectors = embedder.embed(texts)
            if backend == "torch":
                reference = vectors
            check = cosine_check(reference, vectors)
            one = _one_ms(embedder, speed[:40])
            label = backend if ran == backend else f"{backend} (fell back to {ran})"
            rows.append(
                f"| {label} | {embedder.device} | "
                + " | ".join(f"{r:.0f}" for r in rates)
                + f" | {one:.1f} | {load_s:.1f} |"
            )
            bar = "yes" if check["passed"] else "no"
            cosine_rows.append(f"| {label} | {check['mean']:.6f} | {check['min']:.6f} | {bar} |")
    return "\n".join(
        [
            f"### Embedding backends ({n_texts} generated profile texts; `python -m bench embed --texts {n_texts} "
            f"--speed-texts {speed_texts}`)",
            "",
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; texts/s over {speed_texts} "
            "texts on every core; one question = p50 of `embed_one` (one thread); load includes a first-use export.",
            "",
            "| backend | device | "
            + " | ".join(f"texts/s @{b}" for b in BATCH_SIZES)
            + " | one question ms | load s |",
            "|---|---|" + "---:|" * (len(BATCH_SIZES) + 2),
            *rows,
            "",
            f"Cosine to torch's vectors over {n_texts} texts (bar: mean >= {MIN_MEAN_COSINE}, min >= {MIN_COSINE}):",
            "",
            "| backend | mean | min | same vectors |",
            "|---|---:|---:|---|",
            *cosine_rows,
        ]
    )
