"""Tests for the fake OpenAI-compatible server, driven by the real LlamaIndex OpenRouter client."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.llms.openrouter import OpenRouter

from tests.fakes.llm_server import FakeLLMServer

MODEL = "google/gemini-3.5-flash"  # the default LLM_MODEL
HI = [ChatMessage(role="user", content="hi")]


def make_llm(server: FakeLLMServer, **overrides: Any) -> OpenRouter:
    kwargs: dict[str, Any] = {
        "api_key": "test",
        "model": MODEL,
        "api_base": server.base_url,
        "context_window": 1_000_000,
        "max_tokens": 1024,
        "max_retries": 0,
        "timeout": 5,
    }
    kwargs.update(overrides)
    return OpenRouter(**kwargs)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
def llm(server: FakeLLMServer) -> OpenRouter:
    return make_llm(server)


def test_chat_returns_enqueued_text_and_records_request(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue("Hello from the fake", prompt_tokens=42, completion_tokens=7)

    response = llm.chat([ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content="hi")])

    assert response.message.content == "Hello from the fake"
    assert response.raw.usage.prompt_tokens == 42
    assert response.raw.usage.completion_tokens == 7
    assert response.additional_kwargs == {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    req = server.last_request
    assert req["method"] == "POST"
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer test"
    assert req["json"]["model"] == MODEL
    assert req["json"]["max_tokens"] == 1024
    assert req["json"]["stream"] is False
    assert server.prompts() == [[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]]
    server.assert_script_consumed()


def test_default_token_counts_are_deterministic(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue("y" * 20)

    response = llm.chat([ChatMessage(role="user", content="x" * 40)])

    assert response.additional_kwargs == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def test_stream_chat_concatenates_deltas(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue("The quick  brown fox.\nDone")

    chunks = list(llm.stream_chat(HI))

    assert "".join(c.delta or "" for c in chunks) == "The quick  brown fox.\nDone"
    assert chunks[-1].message.content == "The quick  brown fox.\nDone"
    assert len(chunks) > 3
    assert server.last_request["json"]["stream"] is True
    # LlamaIndex does not request stream usage by default, so no token counts arrive.
    assert "stream_options" not in server.last_request["json"]
    assert all(c.additional_kwargs == {} for c in chunks)


def test_stream_usage_when_requested(server: FakeLLMServer) -> None:
    llm = make_llm(server, additional_kwargs={"stream_options": {"include_usage": True}})
    server.enqueue("a b c", prompt_tokens=3, completion_tokens=9)

    chunks = list(llm.stream_chat(HI))

    assert "".join(c.delta or "" for c in chunks) == "a b c"
    assert chunks[-1].raw.choices == []
    assert chunks[-1].additional_kwargs == {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}
    assert all(c.additional_kwargs == {} for c in chunks[:-1])


def test_async_chat_and_stream(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue("async reply", prompt_tokens=5, completion_tokens=2)
    server.enqueue("streamed async reply")

    async def run() -> tuple[str | None, int, str]:
        response = await llm.achat(HI)
        gen = await llm.astream_chat(HI)
        deltas = [chunk.delta or "" async for chunk in gen]
        return response.message.content, response.additional_kwargs["total_tokens"], "".join(deltas)

    assert asyncio.run(run()) == ("async reply", 7, "streamed async reply")
    assert [r["headers"]["x-stainless-async"] for r in server.requests] == ["async:asyncio"] * 2


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [(500, openai.InternalServerError), (429, openai.RateLimitError), (400, openai.BadRequestError)],
)
def test_error_turn_raises(server: FakeLLMServer, llm: OpenRouter, status: int, exc_type: type[Exception]) -> None:
    server.enqueue_error(status=status)

    with pytest.raises(exc_type) as info:
        llm.chat(HI)

    assert f"scripted error {status}" in str(info.value)
    assert len(server.requests) == 1  # max_retries=0: no SDK retry


def test_error_turn_with_custom_body_raises_in_stream(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue_error(503, body="upstream unavailable")

    with pytest.raises(openai.InternalServerError, match="upstream unavailable"):
        list(llm.stream_chat(HI))


def test_delay_longer_than_timeout_raises_and_does_not_steal_next_turn(server: FakeLLMServer) -> None:
    llm = make_llm(server, timeout=0.3)
    server.enqueue_delay(5.0, then="too late")
    server.enqueue("next")

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        llm.chat(HI)
    assert time.monotonic() - started < 2

    assert llm.chat(HI).message.content == "next"
    started = time.monotonic()
    server.stop()  # wakes the still-sleeping delayed handler instead of waiting 5 s
    assert time.monotonic() - started < 2


def test_delay_shorter_than_timeout_answers(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue_delay(0.05, then="slow but fine")
    server.enqueue_delay(0.05)

    assert llm.chat(HI).message.content == "slow but fine"
    with pytest.raises(openai.APIStatusError) as info:
        llm.chat(HI)
    assert info.value.status_code == 504


def test_garbage_raises(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue_garbage()
    server.enqueue_garbage()

    with pytest.raises(json.JSONDecodeError):
        llm.chat(HI)
    with pytest.raises(json.JSONDecodeError):
        list(llm.stream_chat(HI))


def test_empty_script_raises_and_is_recorded(server: FakeLLMServer) -> None:
    llm = make_llm(server, max_retries=1)  # x-should-retry: false stops the SDK retrying

    with pytest.raises(openai.InternalServerError, match="script exhausted"):
        llm.chat(HI)

    assert len(server.requests) == 1
    assert server.exhausted == server.requests
    assert server.exhausted[0]["json"]["messages"] == [{"role": "user", "content": "hi"}]
    with pytest.raises(AssertionError, match="1 request"):
        server.assert_script_consumed()


def test_sdk_retry_consumes_next_turn(server: FakeLLMServer) -> None:
    llm = make_llm(server, max_retries=1)
    server.enqueue_error(500, headers={"retry-after-ms": "1"})
    server.enqueue("recovered")

    assert llm.chat(HI).message.content == "recovered"
    assert [r["headers"]["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]


def test_tool_calls(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue("", tool_calls=[{"name": "lookup", "arguments": {"q": "cats"}, "id": "call_1"}])
    server.enqueue("", tool_calls=[{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": "{}"}])

    response = llm.chat(HI)
    selections = llm.get_tool_calls_from_response(response)
    assert [(s.tool_id, s.tool_name, s.tool_kwargs) for s in selections] == [("call_1", "lookup", {"q": "cats"})]

    last = list(llm.stream_chat(HI))[-1]
    selections = llm.get_tool_calls_from_response(last)
    assert [(s.tool_name, s.tool_kwargs) for s in selections] == [("a", {"x": 1}), ("b", {})]


def test_models_endpoint_and_unknown_path(server: FakeLLMServer) -> None:
    server.enqueue("unused")

    with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as resp:
        models = json.load(resp)
    assert [m["id"] for m in models["data"]] == [MODEL, "google/gemini-3.1-flash-lite", "fake/model"]

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.base_url}/completions", data=b"{}", timeout=5)
    assert info.value.code == 404
    info.value.close()

    assert [r["path"] for r in server.requests] == ["/v1/models", "/v1/completions"]
    assert server.pending == 1


def test_concurrent_requests_each_consume_one_turn(server: FakeLLMServer, llm: OpenRouter) -> None:
    expected = {f"reply {i}" for i in range(16)}
    for text in sorted(expected):
        server.enqueue(text)

    async def run() -> list[str | None]:
        responses = await asyncio.gather(*(llm.achat(HI) for _ in range(16)))
        return [r.message.content for r in responses]

    assert sorted(c or "" for c in asyncio.run(run())) == sorted(expected)
    assert len(server.requests) == 16
    server.assert_script_consumed()


def test_reset_clears_script_and_history(server: FakeLLMServer, llm: OpenRouter) -> None:
    server.enqueue("one")
    llm.chat(HI)
    server.enqueue("two")

    server.reset()

    assert server.requests == []
    assert server.pending == 0
    with pytest.raises(AssertionError):
        _ = server.last_request


def test_stop_joins_all_threads() -> None:
    before = set(threading.enumerate())
    server = FakeLLMServer().start()
    llm = make_llm(server)
    server.enqueue("x")
    llm.chat(HI)
    server.enqueue_delay(10.0)
    with pytest.raises(openai.APITimeoutError):
        make_llm(server, timeout=0.2).chat(HI)

    server.stop()
    server.stop()  # idempotent

    assert set(threading.enumerate()) - before == set()
    with pytest.raises(RuntimeError):
        _ = server.base_url
