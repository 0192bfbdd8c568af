"""One settings object for the whole product, read from the environment and `.env`.

Built in entry points (`get_settings()`), passed down; nothing here runs at import time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EVENT_WEIGHTS = {"purchase": 3.0, "add_to_cart": 2.0, "view": 1.0}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    # LLM
    openrouter_api_key: SecretStr | None = None
    llm_model: str = "google/gemini-3.5-flash"  # fast and cheap; OpenRouter model id
    llm_fallback_models: str = Field(
        default="google/gemini-3.1-flash-lite",
        description="comma-separated model ids OpenRouter tries in order when LLM_MODEL fails (its `models` list)",
    )
    llm_api_base: str = "https://openrouter.ai/api/v1"
    llm_context_window: int = 1_000_000  # Gemini 3.5 Flash and 3.1 Flash-Lite; the class default (3900) truncates
    llm_max_tokens: int = 4096  # the class default (256) cuts answers short; the model's thinking counts too
    llm_reasoning_effort: str = Field(
        default="low", description="OpenRouter's reasoning.effort (low keeps answers fast); empty: the model's own"
    )
    llm_cooldown_s: float = Field(
        default=300.0, ge=0, description="after repeated failures of one kind, no LLM calls for this long"
    )
    llm_failures_before_cooldown: int = Field(default=3, ge=1)
    llm_timeout_s: float = Field(default=45.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0)
    agent_max_iterations: int = Field(default=8, ge=1)
    llm_prices: dict[str, tuple[float, float]] = Field(default_factory=dict)  # USD per 1M tokens (in, out)

    # Stores
    database_url: SecretStr | None = None
    readonly_database_url: SecretStr | None = Field(
        default=None,
        description="the read-only login model-written SQL uses; unset: provisioned by the DATABASE_URL user "
        "(password kept in DATA_DIR/readonly_password)",
    )
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    data_dir: Path = Path("./data")
    qdrant_collection: str = "customer_profiles"
    vector_matrix_max_points: int = Field(
        default=200_000, ge=0, description="local mode: rank gates from an in-memory matrix up to this many points"
    )
    sql_work_mem_mb: int = Field(
        default=64, ge=1, description="work_mem of the discovery engine's own statements (not model-written SQL)"
    )
    gate_fetch_max: int = Field(
        default=20_000,
        ge=1,
        description="gates up to this size are fetched whole and ranked exactly; larger ones rank the closest "
        "profiles first and keep those that pass the gate (checked in SQL)",
    )

    # Embedding
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_batch_size: int = Field(default=256, ge=1)
    embedding_backend: Literal["auto", "torch", "onnx", "openvino", "openvino-bf16", "onnx-int8"] = Field(
        default="auto",
        description="auto: the first of openvino/onnx whose offline export passed the equality check with "
        "torch, else torch; openvino-bf16 (CPUs with native bfloat16: ~2x faster, reorders near-ties) and "
        "onnx-int8 (different vectors) are opt-in only",
    )
    embedding_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="auto: CUDA when torch sees one (bigger batches), else the CPU"
    )
    embedding_cache_dir: Path | None = Field(
        default=None,
        description="where the offline ONNX/OpenVINO exports are kept (default DATA_DIR/embedding_exports); "
        "keyed by model and library versions, so several data folders may share one",
    )

    # Ingestion
    crm_csv: Path | None = None
    events_csv: Path | None = None
    ingest_mapping: Path | None = Field(
        default=None, description="mapping YAML for exports in other layouts (python -m ingest inspect proposes one)"
    )
    event_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    default_event_weight: float = 1.0
    luxury_threshold: float = 800.0
    max_reject_ratio: float = Field(default=0.05, ge=0.0, le=1.0)
    max_shrink: float = Field(
        default=0.5, ge=0.0, le=1.0, description="refuse a run removing more than this share of live customers"
    )
    date_order: Literal["auto", "DMY", "MDY"] = Field(
        default="auto", description="order of day and month in dd/mm/yyyy-style dates; auto = what the values prove"
    )
    ingest_cron: str = "0 2 * * *"
    ingest_timezone: str = "UTC"
    ingest_misfire_grace_s: int = Field(
        default=6 * 3600, ge=1, description="a nightly run this late (bot stopped or paused) still runs"
    )
    status_channel: str | None = None
    suppression_csv: Path | None = Field(
        default=None, description="e-mails never exported or delivered; re-read at the start of every ingestion"
    )

    # Activation (audiences/destinations.py, audiences/delivery.py)
    destinations_file: Path | None = Field(default=None, description="the YAML file of delivery destinations")
    delivery_batch_size: int = Field(default=1000, ge=1, le=1000, description="members per webhook request")
    delivery_max_retries: int = Field(default=4, ge=0, description="retries of one webhook request")
    delivery_backoff_s: float = Field(default=1.0, ge=0, description="first retry delay, doubled each retry")
    delivery_timeout_s: float = Field(default=30.0, gt=0, description="one webhook request")

    # Bot
    bot_workers: int = Field(default=8, ge=1, description="questions answered in parallel")
    max_questions_per_user: int = Field(default=2, ge=1, description="a user's questions in flight at once")
    event_dedupe_ttl_s: int = Field(default=1800, ge=900)

    # Access
    allowed_users: str = ""
    allowed_channels: str = ""
    admin_users: str = ""

    # Read-only SQL
    sql_statement_timeout_ms: int = Field(default=5000, ge=100)
    sql_row_limit: int = Field(default=1000, ge=1)
    sql_result_max_bytes: int = Field(
        default=2_000_000, ge=1000, description="model-written SQL: a result is cut past this many bytes"
    )
    sql_cell_max_chars: int = Field(default=10_000, ge=100, description="model-written SQL: longer cells are cut")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def qdrant_dir(self) -> Path:
        return self.data_dir / "qdrant"

    @staticmethod
    def _ids(value: str) -> frozenset[str]:
        return frozenset(v.strip() for v in value.split(",") if v.strip())

    @property
    def llm_fallback_ids(self) -> list[str]:
        return [m.strip() for m in self.llm_fallback_models.split(",") if m.strip()]

    @property
    def allowed_user_ids(self) -> frozenset[str]:
        return self._ids(self.allowed_users)

    @property
    def allowed_channel_ids(self) -> frozenset[str]:
        return self._ids(self.allowed_channels)

    @property
    def admin_user_ids(self) -> frozenset[str]:
        return self._ids(self.admin_users)

    def weight_of(self, event_type: str) -> float:
        return self.event_weights.get(event_type, self.default_event_weight)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (call from entry points only)."""
    return Settings()
