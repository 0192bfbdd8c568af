"""The original demo's agent design, rebuilt with the real LlamaIndex classes for bench llm-calls.

Two reconstructions, both on the LlamaIndex ReActAgent with LlamaIndex's default prompts for
text-to-SQL, SQL synthesis and question answering over retrieved nodes:

- "query-engine tools" (the design as issue 3 states it): QueryEngineTools over (a) an
  NLSQLTableQueryEngine on customers + events (a text-to-SQL call, then a synthesis call) and
  (b) a VectorStoreIndex query engine on the Qdrant collection (top 10 nodes, a synthesis call).
- "hybrid tool" (the tool set the demo shipped): the NLSQL tool, a hybrid tool that narrows by a
  model-written SQL condition over events, filters on payload fields and answers with the same
  vector query engine (one synthesis call), and a raw SELECT retriever for details / JSON.

The system prompts and tool descriptions are short paraphrases of our own (the demo's own system
message was larger: see bench/RESULTS.md). All SQL the model writes here runs on the product's `cdp.reader.reader_engine`:
a login as the read-only role (views without e-mails or names), with a statement timeout — never a writable
connection (NLSQL runs its SQL inside a committing transaction).
"""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa

QE_SYSTEM = (
    "You are an audience discovery assistant for a customer data platform. Always use the tools: "
    "customer_sql for counts and for facts in the customers and events tables, customer_profiles for "
    "interests and descriptive wishes; use both for questions that need both. Answer in English."
)
QE_SQL = (
    "customer_sql",
    "Translates a question into SQL over the customers and events tables and answers it: counts, "
    "sums, and customers filtered by country, age, spend, favourite color, or purchases / views of products.",
)
QE_VECTOR = (
    "customer_profiles",
    "Semantic search over customer profiles (interests, preferred colors, luxury): returns an answer "
    "about the customers whose profile best matches the query.",
)

HYBRID_SYSTEM = (
    "You find audiences in a customer data platform. For an audience defined by behaviour (purchases, "
    "views) and interests, call hybrid_discovery with the behaviour as a SQL condition over the events "
    "table in sql_where (e.g. product = 'socks') and the interest in query. If details or JSON are "
    "asked for, call sql_data_retriever for the customers found. Use sql_analytics for counts and "
    "metrics. Always use the tools; answer in English."
)
HYBRID_DESCRIPTIONS = {
    "sql_analytics": "Analytical questions (how many, counts, sums): natural language translated to SQL over customers and events.",
    "hybrid_discovery": (
        "Hybrid audience discovery: sql_where (a SQL condition over the events table) narrows to the customers "
        'with matching events, filters are exact matches on customer fields (e.g. {"country": "PL"}), query is '
        "the semantic intent; answers from the 10 closest customer profiles."
    ),
    "sql_data_retriever": (
        "Runs a SELECT over the customers table (customer_id, first_name, last_name, email, country, age, "
        "total_spent, favorite_color) and returns the rows as JSON."
    ),
}


def _parts(settings, qdrant, embedder, llm, reader):
    from llama_index.core import SQLDatabase, VectorStoreIndex
    from llama_index.core.query_engine import NLSQLTableQueryEngine
    from llama_index.vector_stores.qdrant import QdrantVectorStore

    from discovery.retriever import ProductEmbedding

    class LocalModeQdrantVectorStore(QdrantVectorStore):
        """Qdrant local mode allows one client per folder, so there is no async client: the async
        query runs the sync one. The LLM calls are those a Qdrant server would cause."""

        async def aquery(self, query, **kwargs):
            return self.query(query, **kwargs)

    embed = ProductEmbedding(embedder)  # the demo set its embedder globally (Settings.embed_model)
    tables = ["customers", "events"]
    nlsql = NLSQLTableQueryEngine(
        sql_database=SQLDatabase(reader, include_tables=tables, view_support=True),
        tables=tables,
        llm=llm,
        embed_model=embed,
    )
    store = LocalModeQdrantVectorStore(client=qdrant, collection_name=settings.qdrant_collection)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    return nlsql, index


def query_engine_agent(settings, qdrant, embedder, llm, reader):
    """ReActAgent over QueryEngineTools: NLSQL and the vector query engine."""
    from llama_index.core.agent.workflow import ReActAgent
    from llama_index.core.tools import QueryEngineTool

    nlsql, index = _parts(settings, qdrant, embedder, llm, reader)
    tools = [
        QueryEngineTool.from_defaults(nlsql, name=QE_SQL[0], description=QE_SQL[1]),
        QueryEngineTool.from_defaults(
            index.as_query_engine(llm=llm, similarity_top_k=10), name=QE_VECTOR[0], description=QE_VECTOR[1]
        ),
    ]
    return ReActAgent(tools=tools, llm=llm, system_prompt=QE_SYSTEM, streaming=False, timeout=60)


def hybrid_tool_agent(settings, qdrant, embedder, llm, reader):
    """ReActAgent over the NLSQL tool, a hybrid narrowing + vector-answer tool, and a raw retriever."""
    from llama_index.core.agent.workflow import ReActAgent
    from llama_index.core.tools import FunctionTool, QueryEngineTool
    from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

    nlsql, index = _parts(settings, qdrant, embedder, llm, reader)

    async def hybrid_discovery(query: str, sql_where: str | None = None, filters: dict | None = None) -> str:
        conds = []
        if sql_where:
            with reader.connect() as conn:
                ids = [
                    r[0] for r in conn.execute(sa.text(f"SELECT DISTINCT customer_id FROM events WHERE {sql_where}"))
                ]
            if not ids:
                return "No customers match the behavioural condition."
            conds.append(MetadataFilter(key="metadata.customer_id", value=ids, operator=FilterOperator.IN))
        conds += [MetadataFilter(key=f"metadata.{k}", value=v) for k, v in (filters or {}).items()]
        engine = index.as_query_engine(
            llm=llm, similarity_top_k=10, filters=MetadataFilters(filters=conds) if conds else None
        )
        return str(await engine.aquery(query))

    def sql_data_retriever(query: str) -> str:
        with reader.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(sa.text(query))]
        return json.dumps(rows, default=str)

    d = HYBRID_DESCRIPTIONS
    tools = [
        QueryEngineTool.from_defaults(nlsql, name="sql_analytics", description=d["sql_analytics"]),
        FunctionTool.from_defaults(
            async_fn=hybrid_discovery, name="hybrid_discovery", description=d["hybrid_discovery"]
        ),
        FunctionTool.from_defaults(
            fn=sql_data_retriever, name="sql_data_retriever", description=d["sql_data_retriever"]
        ),
    ]
    return ReActAgent(tools=tools, llm=llm, system_prompt=HYBRID_SYSTEM, streaming=False, timeout=60)


DESIGNS = {"query-engine tools": query_engine_agent, "hybrid tool": hybrid_tool_agent}


def ask(agent, question: str, turns: list[tuple[str, str]]) -> str:
    from discovery.agent import history_messages

    async def go():
        return await agent.run(user_msg=question, chat_history=history_messages(turns), max_iterations=8)

    return str(asyncio.run(go()).response.content)
