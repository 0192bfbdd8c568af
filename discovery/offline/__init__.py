"""The deterministic offline planner: `plan(question, catalogue, previous=None, today=None) -> Plan`.

discovery.offline.entry says which module holds which phrasing rule.
"""

from discovery.offline.entry import plan
from discovery.offline.outcome import Plan

__all__ = ["Plan", "plan"]
