"""Per-request cost accounting: an LLM subclass that meters its own calls.

One MeteredOpenRouter per question, so concurrent questions never mix their counts
(LlamaIndex's TokenCountingHandler is process-wide). Provider-reported usage is used: the tokens,
and the cost when the response carries one (OpenRouter's usage accounting, `usage.cost` in USD).
Otherwise the cost comes from a configurable price table (USD per million tokens) for the model
that answered (a fallback may have); a model with no known price makes the cost unknown, not zero.
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
    "google/gemini-3.5-flash": (1.50, 9.00),
    "google/gemini-3.1-flash-lite": (0.25, 1.50),
    "openai/gpt-4o-mini": (0.15, 0.60),
    # retired: the provider no longer serves them; kept so that old results stay explainable
    "google/gemini-2.0-flash-001": (0.10, 0.40),
    "google/gemini-2.0-flash-lite-001": (0.075, 0.30),
}
RETIRED_MODELS = frozenset({"google/gemini-2.0-flash-001", "google/gemini-2.0-flash-lite-001"})


def cost_usd(
    model: str, prompt_tokens: int, completion_tokens: int, prices: dict[str, tuple[float, float]]
) -> float | None:
    """The price-table cost, or None when `model` has no price."""
    if model not in prices:
        return None
    p_in, p_out = prices[model]
    return round((prompt_tokens * p_in + completion_tokens * p_out) / 1_000_000, 8)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _usage_of(response: ChatResponse, messages: list[ChatMessage]) -> tuple[int, int, float | None, str | None]:
    """(prompt tokens, completion tokens, the provider's cost or None, the model that answered or None)."""
    raw = getattr(response, "raw", None)
    usage = _get(raw, "usage") if raw is not None else None
    served = _get(raw, "model") if raw is not None else None
    served = served if isinstance(served, str) and served else None
    if usage is not None:
        cost = _get(usage, "cost")
        reported = float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None
        return int(_get(usage, "prompt_tokens") or 0), int(_get(usage, "completion_tokens") or 0), reported, served
    kw = response.additional_kwargs or {}
    if "prompt_tokens" in kw:
        return int(kw.get("prompt_tokens") or 0), int(kw.get("completion_tokens") or 0), None, served
    # no usage reported: estimate (4 characters a token) rather than report zero
    chars_in = sum(len(str(m.content or "")) for m in messages)
    return chars_in // 4, len(response.message.content or "") // 4, None, served


class MeteredOpenRouter(OpenRouter):
    """OpenRouter that adds every call's tokens and cost to its own Usage."""

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
        p, c, reported, served = _usage_of(response, messages)
        cost = reported if reported is not None else cost_usd(served or self.model, p, c, self._prices)
        if cost is None:
            log.info("no price for model %s and no cost reported: cost unknown (set LLM_PRICES)", served or self.model)
        self._usage.add(
            Usage(
                llm_prompt_tokens=p,
                llm_completion_tokens=c,
                llm_calls=1,
                cost_usd=cost or 0.0,
                cost_known=cost is not None,
            )
        )

    def chat(self, messages, **kwargs: Any) -> ChatResponse:
        response = super().chat(messages, **kwargs)
        self._record(response, list(messages))
        return response

    async def achat(self, messages, **kwargs: Any) -> ChatResponse:
        response = await super().achat(messages, **kwargs)
        self._record(response, list(messages))
        return response
