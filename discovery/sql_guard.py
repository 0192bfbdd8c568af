"""The SQL guard: every path that runs model-written SQL goes through here.

Two rooms (discovery/guard/): checking — `check_select` and `check_where` parse with sqlglot,
apply the rules and the allowlists and render the query back (pure, nothing runs) — and
running — `run_guarded` checks, then executes the re-rendered text read-only with a
timeout, and `database_failure` words PostgreSQL's refusals. Table and column lists come
from cdp.schema. Errors: discovery.guard.errors (SQLGuardError > SQLRejected / SQLFailed).
"""

from discovery.guard.check import GuardedSQL, check_select
from discovery.guard.errors import SQLFailed, SQLGuardError, SQLRejected
from discovery.guard.failure import database_failure
from discovery.guard.run import QueryResult, run_guarded
from discovery.guard.where import check_where, table_columns

__all__ = [
    "GuardedSQL",
    "QueryResult",
    "SQLFailed",
    "SQLGuardError",
    "SQLRejected",
    "check_select",
    "check_where",
    "database_failure",
    "run_guarded",
    "table_columns",
]
