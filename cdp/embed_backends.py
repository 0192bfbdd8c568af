"""Which backend runs the embedding model: torch, or its offline export run by onnxruntime or OpenVINO.

`auto` (the default) takes the first of AUTO_ORDER whose export works and passed the equality check against
torch when it was first used on this machine (recorded in the export's manifest), else torch; on a CUDA
device it keeps torch. The int8 and bfloat16 variants run only when asked for by name. Whatever fails falls back to
torch with one log line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cdp.embed_export import (
    ONNX_FILE,
    cosine_check,
    ensure_export,
    ensure_int8,
    probe_texts,
    read_manifest,
    record_check,
)
from cdp.embed_runtime import ExportedEncoder

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnx", "openvino", "openvino-bf16", "onnx-int8")
DEVICES = ("auto", "cpu", "cuda")
# fastest first: `python -m bench embed` on a 2-core CPU, batches of 32-256: OpenVINO 37-59 texts/s,
# onnxruntime 32-44, torch 23-43 (a loaded machine; both exports at cosine 1.000000 to torch). OpenVINO in
# bfloat16 (where the CPU has it natively) is faster still (2,000 profile texts at batch 64, quiet, on this
# 2-core AMD EPYC: 452 texts/s against 235 in f32 and 191 for torch; cosine to torch mean 0.999986, min
# 0.999971) but reorders near-ties ("luxury": the top 20 of 300 profiles differ from torch's), so like
# int8 it runs only when asked for by name.
AUTO_ORDER = ("openvino", "onnx")
PRECISION = {"openvino-bf16": "bf16"}  # OpenVINO's inference precision per variant (else f32)
BATCH_THREADS = os.cpu_count() or 1


def resolve_device(device: str) -> str:
    """`auto` -> cuda when torch sees one, else cpu."""
    if device not in DEVICES:
        raise ValueError(f"EMBEDDING_DEVICE must be one of {', '.join(DEVICES)}, not {device!r}")
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def open_backend(
    st_model, model_name: str, source: Path, backend: str, device: str, cache_dir: Path | None
) -> tuple[ExportedEncoder | None, str]:
    """(encoder, backend name); encoder None means torch runs the model itself."""
    if backend not in BACKENDS:
        raise ValueError(f"EMBEDDING_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "torch" or (backend == "auto" and (device == "cuda" or cache_dir is None)):
        return None, "torch"
    reasons = []
    try:
        if cache_dir is None:
            raise ValueError("no folder to export into (DATA_DIR)")
        folder = ensure_export(st_model, model_name, source, cache_dir)
        for variant in AUTO_ORDER if backend == "auto" else (backend,):
            try:
                encoder, check = _checked(st_model, folder, variant, device)
            except Exception as exc:  # a runtime missing or broken: the next one, or torch
                reasons.append(f"{variant}: {type(exc).__name__}: {exc}")
                continue
            if check["passed"] or variant == "onnx-int8":
                return encoder, variant
            reasons.append(f"{variant}: cosine to torch mean {check['mean']:.6f} min {check['min']:.6f}")
    except Exception as exc:
        reasons.append(f"export: {type(exc).__name__}: {exc}")
    log.warning(
        "embedding backend %s unavailable, using torch (%s); delete %s to export again",
        backend,
        "; ".join(reasons)[:500],
        cache_dir,
    )
    return None, "torch"


def _checked(st_model, folder: Path, variant: str, device: str) -> tuple[ExportedEncoder, dict]:
    """The variant's encoder and its equality check (run once per export and runtime, then read back)."""
    model_file = ensure_int8(folder) if variant == "onnx-int8" else folder / ONNX_FILE
    runtime = "openvino" if variant.startswith("openvino") else "onnx"
    encoder = ExportedEncoder(st_model, model_file, runtime, device, PRECISION.get(variant, "f32"))
    encoder.encode(["warm up"], 1, 1)  # a broken file fails here, not at the first question
    check = read_manifest(folder).get("checks", {}).get(variant)
    if check is None:
        texts = probe_texts(st_model.tokenizer)
        reference = st_model.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
        check = cosine_check(reference, encoder.encode(texts, 16, BATCH_THREADS))
        record_check(folder, variant, check)
        log.info("embedding %s vs torch: cosine mean %.6f min %.6f", variant, check["mean"], check["min"])
    return encoder, check
