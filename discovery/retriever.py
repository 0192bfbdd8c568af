"""Semantic-only search through LlamaIndex: QdrantVectorStore (on our ready client) as a
retriever, with the product's embedder wrapped as a LlamaIndex embedding. No LLM
synthesis step: the retriever returns nodes and scores, nothing more."""

from __future__ import annotations

from typing import Any

from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters
from llama_index.vector_stores.qdrant import QdrantVectorStore
from pydantic import PrivateAttr
from qdrant_client import QdrantClient

from cdp.embedder import Embedder
from discovery.query import CRMFilter


class ProductEmbedding(BaseEmbedding):
    """The CDP embedder as a LlamaIndex embedding model; counts the tokens it embeds."""

    _embedder: Embedder = PrivateAttr()
    _tokens: int = PrivateAttr(default=0)

    def __init__(self, embedder: Embedder, **kwargs: Any):
        super().__init__(model_name=embedder.model_name, **kwargs)
        self._embedder = embedder

    @property
    def tokens(self) -> int:
        return self._tokens

    def _vec(self, text: str) -> list[float]:
        self._tokens += self._embedder.count_tokens([text])
        return self._embedder.embed_one(text).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vec(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)


def crm_metadata_filters(crm: CRMFilter) -> MetadataFilters | None:
    """CRM conditions as filters on the payload's `metadata` fields."""
    f: list[MetadataFilter | MetadataFilters] = []
    if crm.countries:
        f.append(MetadataFilter(key="metadata.country", value=list(crm.countries), operator=FilterOperator.IN))
    if crm.exclude_countries:
        f.append(MetadataFilter(key="metadata.country", value=list(crm.exclude_countries), operator=FilterOperator.NIN))
    if crm.min_age is not None:
        f.append(MetadataFilter(key="metadata.age", value=crm.min_age, operator=FilterOperator.GTE))
    if crm.max_age is not None:
        f.append(MetadataFilter(key="metadata.age", value=crm.max_age, operator=FilterOperator.LTE))
    if crm.min_spent is not None:
        f.append(MetadataFilter(key="metadata.total_spent", value=crm.min_spent, operator=FilterOperator.GT))
    if crm.max_spent is not None:
        f.append(MetadataFilter(key="metadata.total_spent", value=crm.max_spent, operator=FilterOperator.LT))
    if crm.favorite_colors:
        f.append(
            MetadataFilter(key="metadata.favorite_color", value=list(crm.favorite_colors), operator=FilterOperator.IN)
        )
    if crm.likes_luxury is not None:
        f.append(MetadataFilter(key="metadata.likes_luxury", value=crm.likes_luxury, operator=FilterOperator.EQ))
    return MetadataFilters(filters=f, condition=FilterCondition.AND) if f else None


def retrieve(
    client: QdrantClient, collection: str, embedder: Embedder, intent: str, crm: CRMFilter, limit: int
) -> tuple[list[tuple[int, float]], int]:
    """[(customer_id, similarity)] best first, and the embedding tokens spent."""
    store = QdrantVectorStore(client=client, collection_name=collection)
    embed = ProductEmbedding(embedder)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    retriever = index.as_retriever(similarity_top_k=limit, filters=crm_metadata_filters(crm))
    nodes = retriever.retrieve(intent)
    return [(int(n.node.id_), float(n.score or 0.0)) for n in nodes], embed.tokens
