"""The exported transformer run by onnxruntime or OpenVINO, with the model's own tokenisation
(sentence-transformers' preprocess) and its mean pooling + L2 normalisation reproduced in numpy.

A runtime's threads are fixed when its session is built, so there is one session per thread count:
a batch uses every core, a bot question keeps its one thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from cdp.embed_export import INPUTS

# Every OpenVINO session runs with the LATENCY hint, one infer request per calling thread. A THROUGHPUT
# batch session (2 streams, the batches in parallel requests of an AsyncInferQueue) measured faster under load
# (median 92 vs 78 texts/s at batch 64, interleaved, load 4.6-6.7) but hung a test run: destroying its compiled
# model joins OpenVINO's stream threads while Python holds the GIL (py-spy: CPUStreamsExecutor's destructor in
# std::thread::join, 2026-11-29); on the quiet machine it was also the slower (5k build 27.4 s vs 24.2 s).


class ExportedEncoder:
    """Encodes like `SentenceTransformer.encode(..., normalize_embeddings=True)` for a mean-pooling model."""

    def __init__(self, st_model, model_file: Path, runtime: str, device: str = "cpu", precision: str = "f32"):
        self.st_model = st_model
        self.model_file = model_file
        self.runtime = runtime  # "onnx" | "openvino"
        self.precision = precision  # OpenVINO's inference precision: "f32", or "bf16" where the CPU has it
        # where it runs: a CUDA device only through onnxruntime's CUDA provider, else the CPU
        self.device = "cuda" if runtime == "onnx" and ort_providers(device)[0] == "CUDAExecutionProvider" else "cpu"
        self._runners: dict[int, Runner] = {}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int, threads: int) -> np.ndarray:
        run = self._runner(threads)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
        feeds = (
            self._feed([texts[i] for i in order[start : start + batch_size]])
            for start in range(0, len(texts), batch_size)
        )
        out = np.concatenate(run(feeds))
        result = np.empty_like(out)
        result[order] = out
        return result

    def _feed(self, batch: list[str]) -> dict[str, np.ndarray]:
        features = self.st_model.preprocess(batch)
        return {k: features[k].cpu().numpy().astype(np.int64) for k in INPUTS}

    def _runner(self, threads: int) -> Runner:
        with self._lock:
            runner = self._runners.get(threads)
            if runner is None:
                if self.runtime == "openvino":
                    runner = _ov(self.model_file, threads, self.precision)
                else:
                    runner = _in_turn(_ort(self.model_file, threads, self.device))
                self._runners[threads] = runner
            return runner


Feed = dict[str, np.ndarray]
Runner = Callable[[Iterable[Feed]], list[np.ndarray]]  # the batches' feeds -> their pooled vectors, in order


def _in_turn(infer: Callable[[Feed], np.ndarray]) -> Runner:
    """One batch after the other on the calling thread."""
    return lambda feeds: [_mean_pool(infer(f), f["attention_mask"]) for f in feeds]


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    return (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def ort_providers(device: str) -> list[str]:
    import onnxruntime as ort

    if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _ort(model_file: Path, threads: int, device: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(model_file), options, providers=ort_providers(device))
    names = {i.name for i in session.get_inputs()}
    return lambda feed: session.run(None, {k: v for k, v in feed.items() if k in names})[0]


def native_bf16() -> bool:
    """Whether OpenVINO's CPU device computes in bfloat16 natively here (AVX512_BF16 or AMX)."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _ov(model_file: Path, threads: int, precision: str = "f32") -> Runner:
    """An OpenVINO session on `threads` threads computing in `precision` ("f32", or "bf16": refused
    where the CPU has no native bfloat16, which would only emulate it): one infer request per calling
    thread, so questions in parallel don't queue behind each other."""
    import openvino as ov

    if precision == "bf16" and not native_bf16():
        raise RuntimeError("this CPU computes bfloat16 only by emulation (no AVX512_BF16 or AMX)")
    core = ov.Core()
    compiled = core.compile_model(
        core.read_model(str(model_file)),
        "CPU",
        {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"},
    )
    output = compiled.output(0)
    local = threading.local()

    def infer(feed: Feed) -> np.ndarray:
        request = getattr(local, "request", None)
        if request is None:
            request = local.request = compiled.create_infer_request()
        return request.infer(feed)[output].copy()

    return _in_turn(infer)
