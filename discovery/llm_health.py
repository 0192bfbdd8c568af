"""Is the LLM usable? Process-wide, thread-safe state per provider and model.

Failures that repeat until someone acts — the key refused (401/403), the model unknown (404), no credits
or rate-limited (402/429) — pause the LLM after `LLM_FAILURES_BEFORE_COOLDOWN` in a row of one kind, for
`LLM_COOLDOWN_S`: the offline planner answers meanwhile and no failed call is paid on every question.
Server errors and timeouts do not count (the next call may well work). A success ends any streak.

At start (`check_model`) the provider's models endpoint says whether LLM_MODEL exists; a missing model
pauses the LLM at once and the message names the model and what to set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from cdp.settings import Settings

KIND_OF_STATUS = {401: "auth", 403: "auth", 404: "model", 402: "quota", 429: "quota"}
CHECK_TIMEOUT_S = 10.0

Key = tuple[str, str]  # (API base, model)


def failure_kind(exc: BaseException) -> str | None:
    """auth, model or quota when the HTTP status of `exc` (or of an exception it wraps) says so."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = getattr(current, "status_code", None)
        if status == 400 and "valid model" in str(current).lower():  # OpenRouter: "x is not a valid model ID"
            return "model"
        if isinstance(status, int):
            return KIND_OF_STATUS.get(status)
        current = current.__cause__ or current.__context__
    return None


def kind_reason(kind: str, model: str) -> str:
    """What the failure means and what to do about it."""
    if kind == "auth":
        return "the provider refused OPENROUTER_API_KEY (HTTP 401/403); check the key"
    if kind == "model":
        return f"the provider does not know the model {model} (HTTP 404/400); set LLM_MODEL to a model it offers"
    return "no credits left or rate-limited (HTTP 402/429); add credits at the provider or wait"


@dataclass
class _State:
    kind: str | None = None
    count: int = 0
    paused_until: float = 0.0
    reason: str | None = None  # why the LLM is paused
    problem: str | None = None  # what the start-up check found


class LLMHealth:
    """Failure streaks and cool-downs per (API base, model); every method is thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[Key, _State] = {}

    def _state(self, key: Key) -> _State:
        return self._states.setdefault(key, _State())

    def failed(self, key: Key, kind: str | None, *, threshold: int, cooldown_s: float) -> None:
        if kind is None:
            return
        with self._lock:
            s = self._state(key)
            s.count = s.count + 1 if s.kind == kind else 1
            s.kind = kind
            if s.count >= threshold:
                s.reason = f"{s.count} failures in a row: {kind_reason(kind, key[1])}"
                s.paused_until = self._clock() + cooldown_s
                s.count = 0

    def pause(self, key: Key, kind: str, reason: str, *, threshold: int, cooldown_s: float) -> None:
        """Pause now (the start-up check found the problem); after the cool-down one more failure of
        the same kind pauses again."""
        with self._lock:
            s = self._state(key)
            s.kind, s.count, s.reason, s.problem = kind, threshold - 1, reason, reason
            s.paused_until = self._clock() + cooldown_s

    def note(self, key: Key, problem: str | None) -> None:
        """Remember what the start-up check found (None: nothing wrong)."""
        with self._lock:
            self._state(key).problem = problem

    def succeeded(self, key: Key) -> None:
        with self._lock:
            self._states[key] = _State()

    def unavailable(self, key: Key) -> str | None:
        """Why the LLM is paused now, or None."""
        with self._lock:
            s = self._states.get(key)
            return s.reason if s and s.reason and self._clock() < s.paused_until else None

    def seconds_left(self, key: Key) -> float:
        with self._lock:
            s = self._states.get(key)
            return max(0.0, s.paused_until - self._clock()) if s else 0.0

    def problem(self, key: Key) -> str | None:
        """What to tell an admin: the start-up check's finding, else why the LLM is paused."""
        with self._lock:
            s = self._states.get(key)
            if s is None:
                return None
            return s.problem or (s.reason if self._clock() < s.paused_until else None)

    def streak(self, key: Key) -> tuple[str | None, int]:
        with self._lock:
            s = self._states.get(key)
            return (s.kind, s.count) if s else (None, 0)


HEALTH = LLMHealth()


def key_of(settings: Settings) -> Key:
    return settings.llm_api_base.rstrip("/"), settings.llm_model


def record_failure(settings: Settings, exc: BaseException) -> str | None:
    """Count a failed agent run; returns its kind (None: not one that pauses)."""
    kind = failure_kind(exc)
    HEALTH.failed(
        key_of(settings), kind, threshold=settings.llm_failures_before_cooldown, cooldown_s=settings.llm_cooldown_s
    )
    return kind


def record_success(settings: Settings) -> None:
    HEALTH.succeeded(key_of(settings))


def unavailable(settings: Settings) -> str | None:
    return HEALTH.unavailable(key_of(settings))


def seconds_left(settings: Settings) -> float:
    return HEALTH.seconds_left(key_of(settings))


def problem(settings: Settings) -> str | None:
    return HEALTH.problem(key_of(settings))


def check_model(settings: Settings) -> str | None:
    """Ask the provider's models endpoint whether LLM_MODEL (and the fallbacks) exist. Returns what is
    wrong and what to set, or None (all there, or no key: the offline planner answers anyway). A
    missing LLM_MODEL or a refused key pauses the LLM."""
    if not (settings.openrouter_api_key and settings.openrouter_api_key.get_secret_value()):
        return None
    key, base = key_of(settings), key_of(settings)[0]
    pause: dict[str, Any] = dict(threshold=settings.llm_failures_before_cooldown, cooldown_s=settings.llm_cooldown_s)
    try:
        response = httpx.get(
            f"{base}/models",
            headers={"Authorization": f"Bearer {settings.openrouter_api_key.get_secret_value()}"},
            timeout=CHECK_TIMEOUT_S,
        )
        if response.status_code in KIND_OF_STATUS and KIND_OF_STATUS[response.status_code] == "auth":
            message = kind_reason("auth", settings.llm_model)
            HEALTH.pause(key, "auth", message, **pause)
            return message
        response.raise_for_status()
        offered = {m.get("id") for m in response.json().get("data", []) if isinstance(m, dict)}
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        message = (
            f"could not list the models at {base} ({type(exc).__name__}); LLM_MODEL {settings.llm_model} is "
            "unchecked. Check LLM_API_BASE and the network"
        )
        HEALTH.note(key, message)
        return message
    fallbacks = settings.llm_fallback_ids
    missing_fallbacks = [m for m in fallbacks if m not in offered]
    if settings.llm_model not in offered:
        present = [m for m in fallbacks if m in offered]
        offer = f" (of LLM_FALLBACK_MODELS it offers {', '.join(present)})" if present else ""
        message = (
            f"LLM_MODEL {settings.llm_model} is not offered by {base}{offer}; set LLM_MODEL to a model it "
            "offers (https://openrouter.ai/models)"
        )
        HEALTH.pause(key, "model", message, **pause)
        return message
    note: str | None = (
        f"LLM_FALLBACK_MODELS names models {base} does not offer: {', '.join(missing_fallbacks)}; "
        "remove them from LLM_FALLBACK_MODELS"
        if missing_fallbacks
        else None
    )
    HEALTH.note(key, note)
    return note
