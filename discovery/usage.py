"""Per-request cost accounting: an LLM subclass that meters its own calls.

One MeteredOpenRouter per question, so concurrent questions never mix their counts
(LlamaIndex's TokenCountingHandler is process-wide). Provider-reported usage is used;
cost comes from a configurable price table (USD per million tokens).
"""

from __future__ import annotations

import logging
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.llms.openrouter import OpenRouter
from pydantic import PrivateAttr

from discovery.result import Usage

log = logging.getLogger(__name__)

# USD per 1M tokens (prompt, completion); override with LLM_PRICES='{"model": [in, out]}'
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "google/gemini-2.0-flash-001": (0.10, 0.40),
    "google/gemini-2.0-flash-lite-001": (0.075, 0.30),
    "openai/gpt-4o-mini": (0.15, 0.60),
}


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int, prices: dict[str, tuple[float, float]]) -> float:
    p_in, p_out = prices.get(model, (0.0, 0.0))
    return round((prompt_tokens * p_in + completion_tokens * p_out) / 1_000_000, 8)


def _usage_of(response: ChatResponse, messages: list[ChatMessage]) -> tuple[int, int]:
    raw = getattr(response, "raw", None)
    usage = getattr(raw, "usage", None) if raw is not None else None
    if usage is None and isinstance(raw, dict):
        usage = raw.get("usage")
    if usage is not None:
        get = usage.get if isinstance(usage, dict) else lambda k: getattr(usage, k, None)
        return int(get("prompt_tokens") or 0), int(get("completion_tokens") or 0)
    kw = response.additional_kwargs or {}
    if "prompt_tokens" in kw:
        return int(kw.get("prompt_tokens") or 0), int(kw.get("completion_tokens") or 0)
    # no usage reported: estimate (4 characters a token) rather than report zero
    chars_in = sum(len(str(m.content or "")) for m in messages)
    return chars_in // 4, len(response.message.content or "") // 4


class MeteredOpenRouter(OpenRouter):
    """OpenRouter that adds every call's tokens to its own Usage."""

    _usage: Usage = PrivateAttr(default_factory=Usage)
    _prices: dict = PrivateAttr(default_factory=dict)

    def __init__(self, *args: Any, prices: dict | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._usage = Usage()
        self._prices = prices if prices is not None else dict(DEFAULT_PRICES)

    @property
    def usage(self) -> Usage:
        return self._usage

    def _record(self, response: ChatResponse, messages: list[ChatMessage]) -> None:
        p, c = _usage_of(response, messages)
        self._usage.add(Usage(llm_prompt_tokens=p, llm_completion_tokens=c, llm_calls=1))
        self._usage.cost_usd = cost_usd(  # priced on the totals, not summed per call
            self.model, self._usage.llm_prompt_tokens, self._usage.llm_completion_tokens, self._prices
        )

    def chat(self, messages, **kwargs: Any) -> ChatResponse:
        response = super().chat(messages, **kwargs)
        self._record(response, list(messages))
        return response

    async def achat(self, messages, **kwargs: Any) -> ChatResponse:
        response = await super().achat(messages, **kwargs)
        self._record(response, list(messages))
        return response
