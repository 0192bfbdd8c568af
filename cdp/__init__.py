"""The Customer Data Layer: settings, PostgreSQL, Qdrant, the embedder. No business logic.

Errors: see cdp.errors (CDPError → DatabaseUnavailable, VectorStoreBusy, EmbedderUnavailable).
"""
