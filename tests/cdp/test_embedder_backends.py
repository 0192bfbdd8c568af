"""Embedding backends: the offline export gives torch's vectors (OpenVINO in bfloat16 within the cosine bar, where
the CPU has it natively), is cached, falls back to torch when broken, keeps one thread for a question, and int8
and bfloat16 run only when asked for."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pydantic import ValidationError

from bench.embed_bench import profile_texts
from bench.tools_bench import QUESTIONS
from cdp.embed_backends import AUTO_ORDER, BATCH_THREADS, resolve_device
from cdp.embed_export import MIN_COSINE, MIN_MEAN_COSINE, ONNX_FILE, cosine_check, read_manifest
from cdp.embed_runtime import native_bf16
from cdp.embedder import EXPORTS_DIR, Embedder, embedder_for
from cdp.settings import Settings
from tests.conftest import settings_fields

MODEL = "all-MiniLM-L6-v2"
BF16 = pytest.param(
    "openvino-bf16", marks=pytest.mark.skipif(not native_bf16(), reason="no native bfloat16 on this CPU")
)
EXPORTS = ["onnx", "openvino", BF16]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("data") / EXPORTS_DIR


@pytest.fixture(scope="module")
def texts():
    return profile_texts(300, seed=3)


@pytest.fixture(scope="module")
def torch_vectors(texts):
    return Embedder(MODEL, backend="torch").embed(texts)


@pytest.mark.parametrize("backend", EXPORTS)
def test_backend_vectors_are_torchs_vectors(backend, cache, texts, torch_vectors):
    embedder = Embedder(MODEL, 64, backend=backend, device="cpu", cache_dir=cache)

    check = cosine_check(torch_vectors, embedder.embed(texts))

    assert (embedder.backend, embedder.device) == (backend, "cpu")
    assert check["mean"] >= MIN_MEAN_COSINE and check["min"] >= MIN_COSINE, check
    assert read_manifest(next(cache.iterdir()))["checks"][backend]["passed"]


def test_auto_takes_the_first_checked_export_and_never_int8(cache, texts, torch_vectors):
    embedder = Embedder(MODEL, backend="auto", device="cpu", cache_dir=cache)

    assert embedder.backend == AUTO_ORDER[0] and "bf16" not in embedder.backend
    assert cosine_check(torch_vectors[:50], embedder.embed(texts[:50]))["passed"]


def test_auto_without_a_folder_to_export_into_is_torch():
    assert Embedder(MODEL, backend="auto", device="cpu").backend == "torch"


def test_int8_is_opt_in_and_reported_with_its_cosine(cache, texts, torch_vectors):
    embedder = Embedder(MODEL, backend="onnx-int8", device="cpu", cache_dir=cache)

    vectors = embedder.embed(texts[:50])

    assert embedder.backend == "onnx-int8"
    recorded = read_manifest(next(cache.iterdir()))["checks"]["onnx-int8"]
    assert 0.5 < recorded["mean"] <= 1.0 and "min" in recorded
    assert cosine_check(torch_vectors[:50], vectors)["mean"] > 0.5


def test_the_export_is_made_once_and_reused(cache, caplog):
    Embedder(MODEL, backend="onnx", device="cpu", cache_dir=cache).embed(["warm"])
    folders = list(cache.iterdir())
    stamp = (folders[0] / ONNX_FILE).stat().st_mtime_ns

    with caplog.at_level(logging.INFO, logger="cdp"):
        Embedder(MODEL, backend="onnx", device="cpu", cache_dir=cache).embed(["again"])

    assert list(cache.iterdir()) == folders and (folders[0] / ONNX_FILE).stat().st_mtime_ns == stamp
    assert not [r for r in caplog.records if "exported" in r.getMessage()]


def test_a_broken_export_falls_back_to_torch_with_one_log_line(cache, tmp_path, caplog, texts, torch_vectors):
    Embedder(MODEL, backend="onnx", device="cpu", cache_dir=cache).embed(["warm"])
    broken = tmp_path / EXPORTS_DIR
    source = next(cache.iterdir())
    (broken / source.name).mkdir(parents=True)
    (broken / source.name / ONNX_FILE).write_bytes(b"not a model")
    (broken / source.name / "manifest.json").write_bytes((source / "manifest.json").read_bytes())

    with caplog.at_level(logging.INFO, logger="cdp"):
        embedder = Embedder(MODEL, backend="onnx", device="cpu", cache_dir=broken)
        vectors = embedder.embed(texts[:20])

    assert embedder.backend == "torch"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "using torch" in warnings[0].getMessage()
    assert cosine_check(torch_vectors[:20], vectors)["min"] > 0.99999


def test_a_question_runs_on_one_thread_and_a_batch_on_every_core(cache):
    embedder = Embedder(MODEL, backend="onnx", device="cpu", cache_dir=cache)

    embedder.embed_one("a question")
    embedder.embed(["a", "batch"])

    assert set(embedder._state.encoder._runners) == {1, BATCH_THREADS}


def test_device_auto_follows_torch():
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="EMBEDDING_DEVICE"):
        resolve_device("tpu")


def test_settings_choose_backend_device_and_the_export_folder(tmp_path):
    fields = settings_fields(data_dir=tmp_path, embedding_backend="torch", embedding_device="cpu")
    embedder = embedder_for(Settings(**fields, embedding_cache_dir=None))

    assert embedder.requested == ("torch", "cpu") and embedder.cache_dir == tmp_path / EXPORTS_DIR
    with pytest.raises(ValidationError):
        Settings(**settings_fields(embedding_backend="tensorflow"))


@pytest.mark.parametrize("backend", EXPORTS)
def test_questions_in_parallel_get_the_vectors_they_get_alone(backend, cache, texts):
    from concurrent.futures import ThreadPoolExecutor

    embedder = Embedder(MODEL, backend=backend, device="cpu", cache_dir=cache)
    alone = [embedder.embed_one(t) for t in texts[:8]]

    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(embedder.embed_one, texts[:8]))

    assert cosine_check(np.array(alone), np.array(together))["min"] > 0.99999


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_backend_ranks_profiles_for_each_intent_as_torch_does(backend, cache, texts, torch_vectors):
    """The issue's second bar: the same customers in the same order for the eval's intents (the full
    eval per backend: `python -m bench rankings`)."""
    intents = [q.intent for q in QUESTIONS if q.intent]
    torch_model = Embedder(MODEL, backend="torch")
    other = Embedder(MODEL, 64, backend=backend, device="cpu", cache_dir=cache)
    vectors = other.embed(texts)

    for intent in intents:
        expected = np.argsort(-(torch_vectors @ torch_model.embed_one(intent)), kind="stable")[:20]
        got = np.argsort(-(vectors @ other.embed_one(intent)), kind="stable")[:20]
        assert got.tolist() == expected.tolist(), intent
