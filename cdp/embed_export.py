"""The model's transformer exported to ONNX, offline, from the local sentence-transformers folder, once per
model and library versions, into a cache folder (DATA_DIR/embedding_exports): never fetched from a hub.

Next to the export, `manifest.json` records its key and each runtime's equality check against torch
(cosine on probe texts); a variant that failed its check is never used by `auto`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1  # bump when the export's inputs, outputs or options change
ONNX_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
MANIFEST = "manifest.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MIN_MEAN_COSINE = 0.9999
MIN_COSINE = 0.999
_VERSIONED = ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime", "openvino")


class ExportUnsupported(RuntimeError):
    """The model is not a plain transformer + mean pooling (+ normalize): the export would change its vectors."""


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def export_key(model_name: str, source: Path) -> dict:
    """What the export depends on: the model's files (name, size, mtime) and the libraries' versions."""
    files = sorted(
        p for p in source.rglob("*") if p.is_file() and p.suffix in {".json", ".safetensors", ".bin", ".txt"}
    )
    stamp = [(str(p.relative_to(source)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return {
        "format": EXPORT_FORMAT,
        "model": model_name,
        "files": hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16],
        "versions": {d: _version(d) for d in _VERSIONED},
    }


def export_dir(cache_dir: Path, key: dict) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in key["model"].split("/")[-1])
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir / f"{slug}-{digest}"


def check_supported(st_model) -> None:
    """Only transformer -> mean pooling (-> normalize) is reproduced outside torch."""
    names = [type(m).__name__ for m in st_model]
    mode = getattr(st_model[1], "pooling_mode", None) if len(names) > 1 else None
    if names[:2] != ["Transformer", "Pooling"] or mode != "mean" or any(n != "Normalize" for n in names[2:]):
        raise ExportUnsupported(f"modules {names} with pooling {mode!r}: only Transformer + mean Pooling export")


def ensure_export(st_model, model_name: str, source: Path, cache_dir: Path) -> Path:
    """The export folder for this model and these library versions, exported now if missing or broken."""
    key = export_key(model_name, source)
    target = export_dir(cache_dir, key)
    if (target / ONNX_FILE).is_file() and read_manifest(target).get("key") == key:
        return target
    check_supported(st_model)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        _export_onnx(st_model, tmp / ONNX_FILE)
        (tmp / MANIFEST).write_text(json.dumps({"key": key, "checks": {}}, indent=2))
        shutil.rmtree(target, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:  # another process finished the same export first
            if not (target / ONNX_FILE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("embedding model %s exported to ONNX in %s", model_name, target)
    return target


def _export_onnx(st_model, path: Path) -> None:
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    bert = st_model[0].auto_model
    features = st_model.preprocess(["an export sample", "a second, longer export sample sentence"])
    args = tuple(features[k].to("cpu") for k in INPUTS)
    axes = {k: {0: "batch", 1: "tokens"} for k in (*INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            LastHidden(bert.to("cpu")).eval(),
            args,
            str(path),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def ensure_int8(folder: Path) -> Path:
    """The dynamically int8-quantised variant (opt-in only: it changes the vectors measurably)."""
    target = folder / INT8_FILE
    if not target.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = folder / f".{INT8_FILE}.{os.getpid()}"
        logging.disable(logging.INFO)  # the quantizer reports every tensor on the root logger
        try:
            quantize_dynamic(str(folder / ONNX_FILE), str(tmp), weight_type=QuantType.QInt8)
        finally:
            logging.disable(logging.NOTSET)
        tmp.replace(target)
    return target


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def record_check(folder: Path, variant: str, result: dict) -> None:
    manifest = read_manifest(folder)
    manifest.setdefault("checks", {})[variant] = result
    tmp = folder / f".{MANIFEST}.{os.getpid()}"
    tmp.write_text(json.dumps(manifest, indent=2))
    tmp.replace(folder / MANIFEST)


def cosine_check(reference: np.ndarray, vectors: np.ndarray) -> dict:
    """Row-wise cosine of two sets of L2-normalised vectors, and whether they are the same model's vectors."""
    cos = np.sum(reference * vectors, axis=1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(vectors, axis=1))
    mean, low = float(cos.mean()), float(cos.min())
    return {"mean": mean, "min": low, "n": int(len(cos)), "passed": mean >= MIN_MEAN_COSINE and low >= MIN_COSINE}


def probe_texts(tokenizer, n: int = 32, seed: int = 17) -> list[str]:
    """Sentences of the model's own words, 2 to 64 words long: the check needs no product vocabulary."""
    words = [w for w in tokenizer.get_vocab() if w.isalpha() and w.islower() and len(w) > 2]
    words.sort()
    rng = np.random.default_rng(seed)
    lengths = np.linspace(2, 64, n).astype(int)
    return [" ".join(rng.choice(words, size=k)) + "." for k in lengths]
