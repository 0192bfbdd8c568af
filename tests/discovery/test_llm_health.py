"""The LLM's health, process-wide: the default model exists, failures of one kind pause the calls for a
cool-down, the start-up check names a missing model. Pure state here; the agent end to end is in
test_agent_llm.py."""

from __future__ import annotations

import threading

import httpx
import openai
import pytest
from pydantic import SecretStr

from cdp.settings import Settings
from discovery import llm_health
from discovery.llm_health import LLMHealth, failure_kind
from discovery.usage import DEFAULT_PRICES, RETIRED_MODELS
from tests.fakes.llm_server import FakeLLMServer


def test_the_default_model_is_a_current_flash_with_a_cheaper_fallback(monkeypatch):
    for var in ("LLM_MODEL", "LLM_FALLBACK_MODELS", "LLM_CONTEXT_WINDOW", "LLM_MAX_TOKENS", "LLM_COOLDOWN_S"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(_env_file=None)
    assert s.llm_model == "google/gemini-3.5-flash"
    assert s.llm_fallback_ids == ["google/gemini-3.1-flash-lite"]
    assert s.llm_context_window == 1_000_000 and s.llm_max_tokens >= 4096  # room for the model's thinking
    assert s.llm_cooldown_s == 300 and s.llm_failures_before_cooldown == 3
    assert DEFAULT_PRICES["google/gemini-3.5-flash"] == (1.50, 9.00)
    assert DEFAULT_PRICES["google/gemini-3.1-flash-lite"] == (0.25, 1.50)
    # the retired ids keep their price (old results stay explainable) and are marked retired
    assert "google/gemini-2.0-flash-001" in DEFAULT_PRICES and "google/gemini-2.0-flash-001" in RETIRED_MODELS
    assert s.llm_model not in RETIRED_MODELS and not set(s.llm_fallback_ids) & RETIRED_MODELS
    monkeypatch.setenv("LLM_FALLBACK_MODELS", "a/b, c/d ,")
    assert Settings(_env_file=None).llm_fallback_ids == ["a/b", "c/d"]
    monkeypatch.setenv("LLM_FALLBACK_MODELS", "")
    assert Settings(_env_file=None).llm_fallback_ids == []


def status_error(cls, status: int) -> Exception:
    request = httpx.Request("POST", "http://x/v1/chat/completions")
    response = httpx.Response(status, request=request)
    return cls(f"Error code: {status}", response=response, body=None)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (status_error(openai.AuthenticationError, 401), "auth"),
        (status_error(openai.PermissionDeniedError, 403), "auth"),
        (status_error(openai.NotFoundError, 404), "model"),
        (status_error(openai.APIStatusError, 402), "quota"),
        (status_error(openai.RateLimitError, 429), "quota"),
        (status_error(openai.InternalServerError, 500), None),
        (status_error(openai.BadRequestError, 400), None),
        (
            openai.BadRequestError(
                "Error code: 400 - google/gemini-2.0-flash-001 is not a valid model ID",
                response=httpx.Response(400, request=httpx.Request("POST", "http://x")),
                body=None,
            ),
            "model",
        ),  # fmt: skip
        (TimeoutError(), None),
        (ValueError("garbage"), None),
    ],
)
def test_failure_kinds(exc, kind):
    assert failure_kind(exc) == kind
    wrapped = RuntimeError("the workflow failed")
    wrapped.__cause__ = exc
    assert failure_kind(wrapped) == kind  # found through the exception chain


def test_three_failures_of_one_kind_pause_the_calls_until_the_cool_down_ends():
    now = [1000.0]
    h = LLMHealth(clock=lambda: now[0])
    key, cfg = ("base", "m"), dict(threshold=3, cooldown_s=300)
    assert h.unavailable(key) is None
    h.failed(key, "auth", **cfg)
    h.failed(key, "quota", **cfg)  # another kind breaks the streak
    h.failed(key, "auth", **cfg)
    h.failed(key, "auth", **cfg)
    assert h.unavailable(key) is None  # auth, quota, auth, auth: two in a row
    h.failed(key, "auth", **cfg)
    reason = h.unavailable(key)
    assert reason and "OPENROUTER_API_KEY" in reason and "3" in reason
    assert h.unavailable(("base", "other")) is None  # another model (or provider) is not paused
    now[0] += 299
    assert h.unavailable(key) == reason
    now[0] += 2
    assert h.unavailable(key) is None  # the cool-down is over: the next question tries again
    h.failed(key, "auth", **cfg)
    assert h.unavailable(key) is None  # a fresh streak


def test_a_success_ends_the_streak_and_unclassified_failures_do_not_count():
    h = LLMHealth()
    key, cfg = ("b", "m"), dict(threshold=2, cooldown_s=60)
    h.failed(key, "model", **cfg)
    h.succeeded(key)
    h.failed(key, "model", **cfg)
    assert h.unavailable(key) is None
    h.failed(key, None, **cfg)  # a 500 or a timeout: not a reason to stop calling
    assert h.unavailable(key) is None
    h.failed(key, "model", **cfg)
    assert "model" in h.unavailable(key) and "LLM_MODEL" in h.unavailable(key)


def test_health_is_thread_safe():
    h = LLMHealth()
    key = ("b", "m")

    def hammer():
        for _ in range(500):
            h.failed(key, "quota", threshold=10_000, cooldown_s=60)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert h.streak(key) == ("quota", 4000)


def llm_settings(server: FakeLLMServer, **kw) -> Settings:
    return Settings(_env_file=None, **{"openrouter_api_key": SecretStr("k"), "llm_api_base": server.base_url, **kw})


def test_the_start_check_names_a_missing_model_and_what_to_set():
    with FakeLLMServer(models=("google/gemini-3.1-flash-lite",)) as server:
        settings = llm_settings(server, llm_model="google/gemini-2.0-flash-001")
        message = llm_health.check_model(settings)
        assert server.requests[-1]["method"] == "GET" and server.requests[-1]["path"] == "/v1/models"
        assert server.requests[-1]["headers"]["authorization"] == "Bearer k"
        assert message is not None
        assert "google/gemini-2.0-flash-001" in message and "LLM_MODEL" in message
        assert "google/gemini-3.1-flash-lite" in message  # what the provider does offer of the configured ones
        # the process now knows: no call is paid for a model that does not exist; the status shows it
        assert llm_health.unavailable(settings) and llm_health.problem(settings) == message
        assert not [r for r in server.requests if r["path"] == "/v1/chat/completions"]

        ok = llm_settings(server, llm_model="google/gemini-3.1-flash-lite")
        assert llm_health.check_model(ok) is None and llm_health.problem(ok) is None
        assert llm_health.check_model(llm_settings(server, llm_model="x/y", openrouter_api_key=None)) is None


def test_the_start_check_says_when_the_provider_cannot_be_asked():
    with FakeLLMServer() as server:
        base = server.base_url
    # the server is gone: the check says so, and does not pause the calls (the network may come back)
    settings = Settings(_env_file=None, openrouter_api_key=SecretStr("k"), llm_api_base=base)
    message = llm_health.check_model(settings)
    assert message is not None and "could not" in message and base in message
    assert llm_health.unavailable(settings) is None


def test_the_cli_warns_at_start_when_the_model_is_missing(capsys):
    from discovery.cli import check_llm_at_start

    with FakeLLMServer(models=("fake/model", "google/gemini-3.1-flash-lite")) as server:
        check_llm_at_start(llm_settings(server, llm_model="google/gemini-2.0-flash-001"))
        err = capsys.readouterr().err
        assert "google/gemini-2.0-flash-001" in err and "LLM_MODEL" in err and "offline planner" in err
        check_llm_at_start(llm_settings(server, llm_model="fake/model"))
        assert capsys.readouterr().err == ""


def test_the_start_check_names_fallbacks_the_provider_does_not_offer_without_pausing():
    with FakeLLMServer(models=("fake/model",)) as server:
        settings = llm_settings(server, llm_model="fake/model", llm_fallback_models="gone/one, fake/model")
        message = llm_health.check_model(settings)
        assert message and "gone/one" in message and "LLM_FALLBACK_MODELS" in message and "fake/model" not in message
        assert llm_health.unavailable(settings) is None and llm_health.problem(settings) == message
