"""Errors of the customer data layer.

CDPError                      base; its message says what happened and what to do
├── DatabaseUnavailable       PostgreSQL cannot be reached or started
├── VectorStoreBusy           Qdrant local mode is held by another process
└── EmbedderUnavailable       the embedding model cannot be loaded
"""


class CDPError(Exception):
    """Base class; str(error) is a message fit for the person running the command."""


class DatabaseUnavailable(CDPError):
    pass


class VectorStoreBusy(CDPError):
    pass


class EmbedderUnavailable(CDPError):
    pass
