"""How many customers or groups one answer may hold: defined once, used by the typed query, the
planner and the agent's tools. (How many rows a SQL statement may return is the setting
`sql_row_limit`.)"""

DEFAULT_LIMIT = 20  # customers in a segment when the question does not say
MAX_LIMIT = 1000  # customers in a segment, groups in a breakdown: never more


def clamp_limit(n: float) -> int:
    """`n` brought into 1..MAX_LIMIT (a whole number)."""
    return max(1, min(int(n), MAX_LIMIT))
