"""The ReAct agent: LlamaIndex ReActAgent over the four tools of discovery.tools, LLM = OpenRouter.

One run answers one question and returns an AgentOutcome: the model's final text, what the tools
found (the last segment, the last table), the SQL they ran and what the run cost. discovery.service
words the answer from it; the customer list always comes from a tool, never from the model's text.

Prompt tokens: the ReAct system message is re-sent on every step, so it is kept small — our own
ReAct header (AGENT_PROMPT) instead of LlamaIndex's, and each tool described once by its docstring.
A successful hybrid_discovery, semantic_search or sql_analytics ends the run (return_direct): the
answer is worded from the outcome by discovery.service, not by a second LLM call.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from llama_index.core.agent.react.formatter import ReActChatFormatter
from llama_index.core.agent.workflow import ReActAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool

from cdp.settings import Settings
from discovery.attribute_view import attributes_line
from discovery.engine import DiscoveryEngine, Segment, Table
from discovery.lookalike import SeedResolver
from discovery.query import AudienceQuery
from discovery.result import Usage
from discovery.tools import ToolBox, iso_day
from discovery.usage import MeteredOpenRouter

AGENT_PROMPT = """You help marketers find audiences in a customer data platform.
Data: {customers} customers; {events} events from {data_min} to {data_max} (today is {today}).
Use only these stored values in arguments (Germany -> DE, plurals -> the stored form).
Event types: {event_types}. Products: {products}. Colors: {colors}. Countries: {countries}.{attributes}

Tools (name: when to use; its arguments, * = required):
{tools}

Reply in one of two forms, nothing else:
Thought: <one line>
Action: <tool name>
Action Input: <arguments as a JSON object>
or
Thought: <one line>
Answer: <2-4 sentences, never emails>
Call one tool. hybrid_discovery, semantic_search and sql_analytics answer the user themselves and end your
turn. After an Observation (customer details, or an error saying what to change), call again or Answer.
If the question is vague, Answer with one short clarifying question instead of calling a tool."""


@dataclass
class AgentOutcome:
    """What one agent run produced.

    `ended_by` names the kind of tool whose success ended the run; then `text` is that tool's raw
    output (for the model, not for people). Otherwise `text` is the model's own answer. `segment` and
    `query` are the last segment a tool found and its query, `table` the last table (analytics or
    customer details), `last_call` the last tool call made. `usage` holds the LLM's calls, tokens and
    cost, and the embedding tokens of the segments found before the last one (the last one's come
    with the segment)."""

    text: str
    ended_by: Literal["segment", "table"] | None = None
    segment: Segment | None = None
    query: AudienceQuery | None = None
    table: Table | None = None
    last_call: dict | None = None
    sql: list[str] = field(default_factory=list)  # every statement of every segment, then of every table
    usage: Usage = field(default_factory=Usage)
    rejected: list[str] = field(default_factory=list)  # SQL the guard or PostgreSQL refused


def outcome(box: ToolBox, text: str) -> AgentOutcome:
    """The outcome of a run whose tools worked in `box` and whose final text is `text`."""
    usage = Usage(embedding_tokens=sum(sg.embedding_tokens for _, sg in box.segments[:-1]))
    usage.add(box.llm.usage)
    query, segment = box.segments[-1] if box.segments else (None, None)
    return AgentOutcome(
        text=text,
        ended_by=box.answered,
        segment=segment,
        query=query,
        table=box.tables[-1] if box.tables else None,
        last_call=box.calls[-1] if box.calls else None,
        sql=[s for _, sg in box.segments for s in sg.sql] + [s for t in box.tables for s in t.sql],
        usage=usage,
        rejected=list(box.rejected),
    )


def request_extras(settings: Settings) -> dict:
    """OpenRouter's own request fields: `models` (LLM_MODEL, then LLM_FALLBACK_MODELS: tried in order),
    `usage.include` (the response's usage carries the call's cost) and the reasoning effort."""
    extras: dict = {"usage": {"include": True}}
    if settings.llm_fallback_ids:
        extras["models"] = [settings.llm_model, *(m for m in settings.llm_fallback_ids if m != settings.llm_model)]
    if settings.llm_reasoning_effort:
        extras["reasoning"] = {"effort": settings.llm_reasoning_effort, "exclude": True}
    return extras


def make_llm(settings: Settings, timeout_s: float) -> MeteredOpenRouter:
    key = settings.openrouter_api_key.get_secret_value() if settings.openrouter_api_key else ""
    llm = MeteredOpenRouter(
        additional_kwargs={"extra_body": request_extras(settings)},
        api_key=key,
        model=settings.llm_model,
        api_base=settings.llm_api_base,
        context_window=settings.llm_context_window,
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,
        timeout=timeout_s,
        max_retries=settings.llm_max_retries,
        prices=settings.llm_prices or None,
    )
    return llm


def history_messages(turns: list[tuple[str, str]]) -> list[ChatMessage]:
    out = []
    for q, a in turns[-6:]:
        out.append(ChatMessage(role=MessageRole.USER, content=q))
        out.append(ChatMessage(role=MessageRole.ASSISTANT, content=a))
    return out


def system_prompt(engine: DiscoveryEngine, today: date, tools: list[FunctionTool]) -> str:
    """The whole ReAct system message: data, vocabulary, tools, reply format."""
    cat = engine.catalogue
    return AGENT_PROMPT.format(
        customers=cat.customers, events=cat.events, data_min=iso_day(cat.data_min), data_max=iso_day(cat.data_max),
        today=today, event_types=", ".join(cat.event_types), products=", ".join(cat.products),
        colors=", ".join(cat.colors), countries=", ".join(cat.countries), attributes=attributes_line(cat),
        tools="\n".join(f"- {t.metadata.name}: {t.metadata.description}" for t in tools),
    )  # fmt: skip


def run_agent(
    engine: DiscoveryEngine,
    question: str,
    turns: list[tuple[str, str]],
    settings: Settings,
    *,
    now: datetime,
    progress=None,
    last_segment: list[int] | None = None,
    seed_resolver: SeedResolver | None = None,
) -> AgentOutcome:
    """Run the ReAct loop (bounded iterations and time) with a fresh metered LLM client; raises when
    the LLM fails or the run times out."""
    llm = make_llm(settings, timeout_s=settings.llm_timeout_s)
    box = ToolBox(
        engine=engine, llm=llm, now=now, progress=progress, last_segment=list(last_segment or []),
        # saved audiences only when the question names one: the lookalike tool costs ~70 prompt tokens a step
        seed_resolver=seed_resolver if "audience" in question.lower() else None,
    )  # fmt: skip
    tools: list[Any] = box.tools()  # FunctionTools; ReActAgent's parameter is an invariant list of a union
    # our header replaces LlamaIndex's (its placeholders {tool_desc}/{context} unused; braces escaped)
    header = system_prompt(engine, now.date(), tools).replace("{", "{{").replace("}", "}}")
    agent = ReActAgent(
        tools=tools,
        llm=llm,
        formatter=ReActChatFormatter(system_header=header),
        streaming=False,
        timeout=settings.llm_timeout_s,
    )

    async def go() -> str:
        handler = agent.run(
            user_msg=question, chat_history=history_messages(turns), max_iterations=settings.agent_max_iterations
        )
        out = await asyncio.wait_for(handler, timeout=settings.llm_timeout_s)
        response = getattr(out, "response", None)
        return str(response.content if response is not None else out)

    return outcome(box, asyncio.run(go()))
