"""The SQL guard in two rooms: checking (check, where, allowlist: pure) and running (run)."""
