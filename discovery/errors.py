"""Errors of audience discovery.

DiscoveryError                base; its message says what went wrong and what to try
├── ToolRetry                 an agent tool call gave the user nothing (discovery.tools)
└── SeedsUnknown              a lookalike whose seeds cannot be found (discovery.lookalike)
"""


class DiscoveryError(Exception):
    """Base class; str(error) is a message fit for the reader (the model or a person)."""
